// The module piscina's and tinypool's threads load: the bench's stage
// functions, picked by the `name` option of `run`, and the batch helper.

export * from '../work.js';
export { batch } from './batch-call.js';
