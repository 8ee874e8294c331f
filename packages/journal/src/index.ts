// @lnsd/journal: the state journal of issue 13 (not yet used by lnsd). Owns the files of one state
// directory; runs on the control loop's thread, the one writer of records. Depends on protobufjs only.
//
// Files: snapshot-<V>.lnsj holds every live record at version V; segment-<V>.lnsj the changes after
// V. Each starts with the magic "LNSJ" and a FileHeader (schema version, writer's lnsd version, node
// start, creation time), then frames: u32 LE length, u32 LE CRC-32, a protobuf Entry (version,
// wall-clock time, upsert or delete of (kind, id) with an opaque body; JSON today). A torn last
// frame is ignored with a warning; damage before it refuses the state. Output commit: the control
// loop appends its changes, calls flush() (one write, page cache, no fsync), then sends. compact()
// writes a snapshot atomically (temporary file, fsync, rename) and starts a new segment; close()
// fsyncs (SIGTERM). readJournal() replays snapshot + segments, refusing state older than
// state_max_age or written by an incompatible schema.
export * from "./schema.js";
export * from "./fs.js";
export { parseJournalFile, encodeFrame, type ParsedFile } from "./file.js";
export * from "./journal.js";
