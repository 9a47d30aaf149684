export { scanPatch } from './scan.js';
