// Preloaded (node --import) into a `raincore node` process to start it with a skewed wall clock:
// Date.now() runs RAINCORE_TEST_CLOCK_SKEW_MS ahead (negative: behind), as after a wrong NTP step.
// (performance.now() is the process's monotonic clock, which wall-clock skew does not move.) Test-only;
// the nemesis test restarts members with it to show that nothing the GDM promises depends on it.
const skew = Number(process.env.RAINCORE_TEST_CLOCK_SKEW_MS ?? "0");
const dateNow = Date.now;
Date.now = () => dateNow() + skew;
