import { setDefaultTimeout } from "bun:test";

// Kernel and end-to-end tests start real processes; unit tests finish far below this.
setDefaultTimeout(30_000);
