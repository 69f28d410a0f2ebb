/**
 * The one entry point to `@peculiar/x509` for the Notary core. The library's dependency injection
 * (tsyringe) throws at import time unless the Reflect metadata polyfill is loaded first, and ES
 * module imports are evaluated in order, so every user imports the library through this file.
 */
import 'reflect-metadata';

export * as px509 from '@peculiar/x509';
