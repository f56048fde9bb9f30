#!/usr/bin/env node
import '../dist/cli/target-convo.js';
