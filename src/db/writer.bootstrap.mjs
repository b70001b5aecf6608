// Entry of the database writer thread. A worker thread does not inherit the TypeScript loader
// of the process that starts it, so it registers one before importing the TypeScript entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
