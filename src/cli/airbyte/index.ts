import * as check from './check.js';
import * as discover from './discover.js';
import * as read from './read.js';
import * as spec from './spec.js';

/** The Airbyte protocol's commands (protocols.md §3.1), on the same engine as the Singer tap. */
export const airbyteCommands = [spec, check, discover, read];
