#!/usr/bin/env node
import '../dist/cli/target-main.js';
