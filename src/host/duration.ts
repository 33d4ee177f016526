// The parser lives in util/, where the SDK's resource intervals use it too.
export { parseDurationSeconds } from "../util/duration.js";
