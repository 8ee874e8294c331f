// Lets promise callbacks run in in-process tests (the client resolves its promises from timer and
// socket callbacks).
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
