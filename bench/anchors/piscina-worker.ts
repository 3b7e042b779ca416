// The module piscina's threads load: the bench's stage functions, picked by
// the `name` option of `piscina.run`.

export * from '../work.js';
