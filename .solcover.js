/* global module */
// solidity-coverage settings for `npm run coverage` (see also scripts/check-coverage.ts).
module.exports = {
  // contracts/test/: mocks and probes that only expose libraries to the tests; not counted.
  skipFiles: ["test/"],
  // json-summary feeds scripts/check-coverage.ts; text-summary prints the totals at the end.
  istanbulReporter: ["html", "lcov", "text", "json", "json-summary", "text-summary"],
};
