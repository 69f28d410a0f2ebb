/**
 * The entry point of the packed `stagesign` command (bundled by `npm pack`, see
 * scripts/build-cli.ts): runs the CLI with the process's arguments and sets the exit status.
 */
import process from 'node:process';
import { run } from './main';

// stderr carries notation's warnings and errors only: keep the AWS SDK's notice about future Node
// versions out of it (set the variable to "false" to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await run(process.argv.slice(2));
