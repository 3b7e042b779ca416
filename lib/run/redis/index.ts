// `async-task-pipeline/redis`: the only entry that loads the `redis` client.
export { redisTransport } from './redis-transport.js';
export type { RedisTransportOptions } from './redis-transport.js';
export type { SentinelOptions } from './connection.js';
export type { Transport } from '../transport.js';
