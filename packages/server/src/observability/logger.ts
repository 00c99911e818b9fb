import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * JSON logs, one line per event. Secrets that could reach a log through a request or an error
 * object are redacted by path as a second line of defence (handlers never log them on purpose).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "aiservice" },
    redact: {
      paths: ["req.headers.authorization", 'req.headers["x-api-key"]', "*.secret", "*.password", "key"],
      censor: "[redacted]",
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
