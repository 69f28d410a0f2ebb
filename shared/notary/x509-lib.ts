/**
 * The one entry point to `@peculiar/x509`, which the tests use to build certificates. The
 * library's dependency injection (tsyringe) throws at import time unless the Reflect metadata
 * polyfill is loaded first, and ES module imports are evaluated in order, so every user imports
 * the library through this file. The stages do not import it: they read the extensions they need
 * with `@peculiar/asn1-x509` (x509-extensions.ts), which keeps the library's import cost out of
 * their cold start.
 */
import 'reflect-metadata';

export * as px509 from '@peculiar/x509';
