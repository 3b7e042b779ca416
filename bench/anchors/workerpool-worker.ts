// The module workerpool's threads load: the bench's stage functions and the
// batch helper, registered as methods by name.

import workerpool from 'workerpool';
import * as work from '../work.js';
import { batch } from './batch-call.js';

workerpool.worker({ ...work, batch });
