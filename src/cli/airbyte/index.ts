import * as check from './check.js';
import * as discover from './discover.js';
import * as read from './read.js';
import * as spec from './spec.js';

/** The Airbyte protocol's commands (https://docs.airbyte.com/understanding-airbyte/airbyte-protocol), on the same engine as the Singer tap. */
export const airbyteCommands = [spec, check, discover, read];
