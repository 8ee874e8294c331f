// The file-system calls the journal makes, behind a small interface (STYLE.md) so tests can count
// fsyncs or crash between two of them. Synchronous: the control loop's flush() is its output commit.
import * as fs from "node:fs";

export interface JournalFs {
  mkdirSync(path: string): void;
  readdirSync(path: string): string[];
  readFileSync(path: string): Buffer;
  /** flags as node's fs.openSync: "w" (create, truncate), "r" (read; directories too). */
  openSync(path: string, flags: "w" | "r"): number;
  /** Writes all of buf. */
  writeSync(fd: number, buf: Uint8Array): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

export const nodeJournalFs: JournalFs = {
  mkdirSync: (path) => { fs.mkdirSync(path, { recursive: true }); },
  readdirSync: (path) => fs.readdirSync(path),
  readFileSync: (path) => fs.readFileSync(path),
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync(fd, buf) {
    let at = 0;
    while (at < buf.length) at += fs.writeSync(fd, buf, at, buf.length - at);
  },
  fsyncSync: (fd) => { fs.fsyncSync(fd); },
  closeSync: (fd) => { fs.closeSync(fd); },
  renameSync: (from, to) => { fs.renameSync(from, to); },
  unlinkSync: (path) => { fs.unlinkSync(path); },
};
