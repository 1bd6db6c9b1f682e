/**
 * @module The `hash` action: hashes of the file an event is about (sha1 and sha256 by default),
 * streamed through `Bun.CryptoHasher`, one file at a time, off the batch path. Files over the
 * size cap are not read; requests over the rate (in event time) are refused rather than queued
 * without bound. The file is read through `/proc/<pid>/root` when the process is alive, so a
 * path inside a container resolves in that container's mount namespace.
 */
import { stat } from "node:fs/promises";
import { errorText } from "../../core/errors.ts";
import { TokenBucket } from "./limiter.ts";

export type HashAlgorithm = "sha1" | "sha256" | "md5" | "sha512";

export interface HashOptions {
	readonly algorithms: readonly HashAlgorithm[];
	/** Bytes; larger files are not hashed. */
	readonly maxFileSize: number;
	/** Hashes per second of event time (burst of the same size). */
	readonly maxHashRate: number;
	/** Requests waiting for their turn before new ones are refused. */
	readonly maxPending: number;
}

/** Datadog's hash states. */
export type HashState =
	| "DONE"
	| "FILE_NOT_FOUND"
	| "FILE_TOO_BIG"
	| "HASH_WAS_RATE_LIMITED"
	| "FILE_EMPTY_PATH"
	| "UNKNOWN_HASH_ERROR";

export interface HashResult {
	readonly type: "hash";
	readonly path: string;
	readonly state: HashState;
	readonly trigger: "rule";
	/** `sha1:<hex>`, `sha256:<hex>`… when `state` is `DONE`. */
	readonly hashes?: string[];
	readonly size?: number;
	readonly error?: string;
}

const CACHE_SIZE = 1024;

export class FileHasher {
	readonly #bucket: TokenBucket;
	/** Results by path, size and mtime: the same unchanged file is hashed once. */
	readonly #cache = new Map<string, string[]>();
	#tail: Promise<unknown> = Promise.resolve();
	#pending = 0;

	constructor(readonly options: HashOptions) {
		this.#bucket = new TokenBucket(1e9 / options.maxHashRate, options.maxHashRate);
	}

	get pending(): number {
		return this.#pending;
	}

	/**
	 * Hash `path` for an event at `now` (ns) of process `pid`. Decides synchronously whether the
	 * request is taken (rate, queue) and resolves once the file is read.
	 */
	hash(path: string, pid: number | undefined, now: number): Promise<HashResult> {
		if (path === "")
			return Promise.resolve({ type: "hash", path, state: "FILE_EMPTY_PATH", trigger: "rule" });
		if (this.#pending >= this.options.maxPending || !this.#bucket.allow(now)) {
			return Promise.resolve({ type: "hash", path, state: "HASH_WAS_RATE_LIMITED", trigger: "rule" });
		}
		this.#pending++;
		const run = this.#tail.then(() => this.#hashNow(path, pid));
		this.#tail = run.catch(() => undefined);
		return run.finally(() => {
			this.#pending--;
		});
	}

	async #hashNow(path: string, pid: number | undefined): Promise<HashResult> {
		const base = { type: "hash" as const, path, trigger: "rule" as const };
		const candidates =
			pid !== undefined && pid > 0 && path.startsWith("/") ? [`/proc/${pid}/root${path}`, path] : [path];
		for (const file of candidates) {
			let info: Awaited<ReturnType<typeof stat>>;
			try {
				info = await stat(file);
			} catch {
				continue;
			}
			if (!info.isFile()) return { ...base, state: "FILE_NOT_FOUND", error: "not a regular file" };
			if (info.size > this.options.maxFileSize) return { ...base, state: "FILE_TOO_BIG", size: info.size };
			const key = `${file}\0${info.size}\0${info.mtimeMs}\0${info.ino}`;
			const cached = this.#cache.get(key);
			if (cached) return { ...base, state: "DONE", hashes: cached, size: info.size };
			try {
				const hashes = await this.#digest(file);
				if (hashes === undefined) return { ...base, state: "FILE_TOO_BIG", size: info.size };
				if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
				this.#cache.set(key, hashes);
				return { ...base, state: "DONE", hashes, size: info.size };
			} catch (e) {
				return { ...base, state: "UNKNOWN_HASH_ERROR", error: errorText(e) };
			}
		}
		return { ...base, state: "FILE_NOT_FOUND" };
	}

	/** The digests, or undefined when the file grew past the size cap while being read. */
	async #digest(file: string): Promise<string[] | undefined> {
		const hashers = this.options.algorithms.map((a) => new Bun.CryptoHasher(a));
		const reader = Bun.file(file).stream().getReader();
		let read = 0;
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			read += value.byteLength;
			if (read > this.options.maxFileSize) {
				await reader.cancel();
				return undefined;
			}
			for (const h of hashers) h.update(value);
		}
		return hashers.map((h, i) => `${this.options.algorithms[i]}:${h.digest("hex")}`);
	}
}
