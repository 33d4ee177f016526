// The scaffold templates that wrap a Python program (an Airbyte source, a Singer tap), end to end:
// a file of their own, so the test workers run them beside the other templates.
import { describe } from "vitest";
import { available, itMakesAWorkingConnector, PYTHON_TEMPLATES } from "../helpers/scaffoldTemplate.js";

describe("flowcap scaffold", () => {
  itMakesAWorkingConnector(available.filter((t) => PYTHON_TEMPLATES.includes(t)));
});
