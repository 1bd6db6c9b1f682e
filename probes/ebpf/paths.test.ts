import { describe, expect, test } from "bun:test";
import { basename } from "../../core/model/derive.ts";
import { normalize, resolveName } from "./paths.ts";

describe("paths from kernel records", () => {
	test("normalisation removes . and repeated slashes and applies ..", () => {
		expect(normalize("/a/./b//c/../d/")).toBe("/a/b/d");
		expect(normalize("/usr/share/doc/../../bin/../lib/os-release")).toBe("/usr/lib/os-release");
		expect(normalize("/../..")).toBe("/");
		expect(normalize("/etc/passwd")).toBe("/etc/passwd");
		expect(normalize("/")).toBe("/");
	});

	test("a relative name is joined to the directory the kernel resolved", () => {
		expect(resolveName("/usr/share", "doc/../../bin/../lib/os-release")).toBe("/usr/lib/os-release");
		expect(resolveName("/", "etc/hosts")).toBe("/etc/hosts");
		expect(resolveName("/tmp/x", "../y/./z")).toBe("/tmp/y/z");
		expect(resolveName("/tmp/x", "/abs//path")).toBe("/abs/path");
		expect(resolveName("/tmp/x", "")).toBe("/tmp/x");
	});

	test("basename is the last component", () => {
		expect(basename("/usr/lib/os-release")).toBe("os-release");
		expect(basename("/tmp/dir/")).toBe("dir");
		expect(basename("/")).toBe("");
	});
});
