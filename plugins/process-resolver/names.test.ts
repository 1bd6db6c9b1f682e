import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NameTable, parseIdFile } from "./names.ts";

const temp = mkdtempSync(join(tmpdir(), "vigil-names-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("passwd and group files", () => {
	test("names by id; the first line for an id wins", () => {
		const { names, issues } = parseIdFile(
			"root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n\n# comment\n+nis::::::\nwww-data:x:33:33::/var/www:/bin/false\n",
			"/etc/passwd",
			7,
		);
		expect([...names]).toEqual([
			[0, "root"],
			[33, "www-data"],
		]);
		expect(issues).toEqual([]);
	});

	test("a bad line is reported with file, line and column, and the other lines still load", () => {
		const { names, issues } = parseIdFile(
			"adm:x:4:\nbroken:x:notanid:\nshort\nstaff:x:50:\n",
			"/etc/group",
			4,
		);
		expect([...names.values()]).toEqual(["adm", "staff"]);
		expect(issues).toEqual([
			{
				file: "/etc/group",
				line: 2,
				col: 10,
				message: 'id "notanid" is not a number between 0 and 4294967295',
			},
			{ file: "/etc/group", line: 3, col: 1, message: 'expected 4 fields separated by ":", got 1' },
		]);
	});

	test("refresh reloads a file only when it changed, also when replaced by rename", () => {
		const passwd = join(temp, "passwd");
		const group = join(temp, "group");
		writeFileSync(passwd, "alice:x:1000:1000::/home/alice:/bin/sh\n");
		writeFileSync(group, "users:x:100:\n");
		const table = new NameTable(passwd, group);
		expect(table.refresh().reloaded).toBe(true);
		expect([table.user(1000), table.group(100), table.user(1)]).toEqual(["alice", "users", undefined]);
		expect(table.refresh().reloaded).toBe(false);

		writeFileSync(`${passwd}.new`, "carol:x:1000:1000::/home/carol:/bin/sh\n");
		renameSync(`${passwd}.new`, passwd);
		expect(table.refresh().reloaded).toBe(true);
		expect(table.user(1000)).toBe("carol");
	});

	test("a missing file is reported and names nobody", () => {
		const table = new NameTable(join(temp, "nope"), join(temp, "nope-either"));
		const { issues } = table.refresh();
		expect(issues.map((i) => i.file)).toEqual([join(temp, "nope"), join(temp, "nope-either")]);
		expect(issues[0]!.message).toContain("cannot read");
		expect(table.user(0)).toBeUndefined();
	});
});
