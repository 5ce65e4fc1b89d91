/**
 * Lets this process import TypeScript files (job modules, driver scripts) by registering
 * the hooks of ts-hooks.ts with Node's module customization API (`module.register`).
 */
import { register } from 'node:module';

let registered = false;

/** Register the TypeScript hooks once per process. */
export function registerTypeScriptLoader(): void {
  if (registered) return;
  registered = true;
  register('./ts-hooks.js', import.meta.url);
}
