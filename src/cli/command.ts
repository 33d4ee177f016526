import { helpText, parseCommandArgs, UsageError, type CommandSpec, type OptionTable, type ParsedArgs } from "./args.js";
import { printError } from "./output.js";

/**
 * A command's module: parses argv by its option table, answers --help, and maps failures to exit
 * codes (2 for usage errors, 1 for everything else), printing errors for people.
 */
export function defineCommand<const T extends OptionTable>(spec: CommandSpec<T>, action: (args: ParsedArgs<T>) => Promise<number>) {
  return {
    spec,
    async run(argv: string[]): Promise<number> {
      let args: ParsedArgs<T>;
      try {
        args = parseCommandArgs(spec, argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        process.stderr.write(`flowcap ${spec.name}: ${error.message}\n\n${helpText(spec)}`);
        return 2;
      }
      if (args.help) {
        process.stdout.write(helpText(spec));
        return 0;
      }
      try {
        return await action(args);
      } catch (error) {
        if (error instanceof UsageError) {
          process.stderr.write(`flowcap ${spec.name}: ${error.message}\n\n${helpText(spec)}`);
          return 2;
        }
        printError(error);
        return 1;
      }
    },
  };
}
