export * from './templates.js';
export * from './message.js';
export * from './transport.js';
