// What the piscina server's threads load: the HTTP example's two functions,
// run one after the other on one line (one task per line) or on every line
// of a request chunk (one task per chunk), as a user would write them.

import { analyse, label } from '../../examples/http-server/stages.js';
import type { Analysis, Line } from '../../examples/http-server/stages.js';

export function oneLine(line: Line): Analysis {
  return label(analyse(line));
}

export function manyLines(lines: Line[]): Analysis[] {
  return lines.map((line) => label(analyse(line)));
}
