// A process worker: prints a line every N ms and exits cleanly on SIGTERM.
const every = Number(process.argv[2] ?? 1000);
let n = 0;
console.log(`ticker ${process.pid} started, every ${every} ms`);
const timer = setInterval(() => console.log(`tick ${++n}`), every);
process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log('ticker stopping');
  process.exit(0);
});
