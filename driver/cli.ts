#!/usr/bin/env node
/**
 * The `stratus` command's entry. It turns Node's compile cache on for this process, as for the
 * processes stratus starts (contract/compile-cache.ts), and only then loads the command line
 * (cli-main.ts): the cache serves modules compiled after it is on, and the command line's are
 * about a thousand files. `STRATUS_COMPILE_CACHE=0` turns it off.
 */
import module from 'node:module';
import { compileCacheDir } from '../contract/compile-cache.js';

const cacheDir = compileCacheDir();
if (cacheDir !== undefined) module.enableCompileCache?.(cacheDir);
await import('./cli-main.js');
