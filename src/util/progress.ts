import cliProgress from "cli-progress";
import { colourEnabled } from "./colour.js";

/** A progress bar for a long command, or its plain stand-in when no bar may be drawn. */
export interface ProgressBar {
  /** Moves the bar on by one unit; `label` says what is being done now. */
  increment(label?: string): void;
  /** Sets how far it is (and the total, when it was not known at the start). */
  update(done: number, total?: number, label?: string): void;
  /** Fills the bar: the work is done. */
  finish(label?: string): void;
  /** A line of text: printed above the bar, or on its own line when there is no bar. */
  log(line: string): void;
  stop(): void;
  /** Whether a bar is drawn (a terminal, no --json, no NO_COLOR). */
  readonly drawn: boolean;
}

export interface ProgressOptions {
  /** What runs, the bar's first word: "replay", "eval". */
  title: string;
  total: number;
  /** What is counted: "decisions", "checks". */
  unit: string;
  /** False with --json (stdout is for the result, stderr stays quiet but for real messages). */
  enabled: boolean;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * A progress bar with an ETA on stderr, for the commands that may run long (replay, eval, doctor, bench with
 * a model). Drawn only on a terminal and never with --json, NO_COLOR or TERM=dumb: a bar is cursor control
 * codes, so a pipe, a log file or a NO_COLOR terminal gets plain lines and not one escape sequence.
 */
export function progressBar(o: ProgressOptions): ProgressBar {
  const stream = o.stream ?? process.stderr;
  if (!o.enabled || !colourEnabled(stream, o.env ?? process.env)) {
    return {
      drawn: false,
      increment: () => {},
      update: () => {},
      finish: () => {},
      log: (line) => {
        stream.write(`${line}\n`);
      },
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: `${o.title} {bar} {value}/{total} ${o.unit} | {percentage}% | ETA {eta_formatted} | {label}`,
      hideCursor: true,
      // Room for the counts, the ETA and a label on an 80-column terminal.
      barsize: 24,
      clearOnComplete: false,
      // Recomputed as time passes, so a long single step (a model call) does not freeze the estimate.
      etaAsynchronousUpdate: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(Math.max(0, o.total), 0, { label: "" });
  let stopped = false;
  return {
    drawn: true,
    increment: (label) => bar.increment(1, label === undefined ? {} : { label }),
    update: (done, total, label) => {
      if (total !== undefined && total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done, label === undefined ? {} : { label });
    },
    finish: (label) => bar.update(bar.getTotal(), label === undefined ? {} : { label }),
    log: (line) => multi.log(`${line}\n`),
    stop: () => {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
