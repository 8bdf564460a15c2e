#!/usr/bin/env python3
"""Prints the Markdown results table of docs/PERFORMANCE.md from a
keiretsu-bench JSON report, so the table is never copied by hand:

    python3 bench/table.py bench/results/latest.json
"""
import json
import sys


def fmt(v, digits=0):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return f"{v:,.{digits}f}"
    return str(v)


def goal_cell(section):
    goals = section.get("goals", [])
    if not goals:
        return ""
    return "; ".join(("met: " if g["met"] else "**missed**: ") + g["goal"] for g in goals)


def main(path):
    r = json.load(open(path))
    m = r["machine"]
    print(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib'] / 1024:.0f} GiB, "
          f"{m['kernel']}; load average {m['load_average_1m_at_start']} at start; "
          f"run took {r['seconds']:.0f} s.\n")
    if "limits" in r:  # a run of only the clearing scenario measures none
        limits_table(r["limits"])
    scenarios_table(r)


def limits_table(l):
    print("| Limit (same run) | Value |")
    print("|---|---|")
    rows = [
        ("Ed25519 verify, all cores (distinct signatures)", l["ed25519_verify_per_s_all_cores"], "/s"),
        ("Ed25519 verify, one core", l["ed25519_verify_per_s_one_core"], "/s"),
        ("Ed25519 sign, one core", l["ed25519_sign_per_s_one_core"], "/s"),
        ("BLAKE2b-256, one core", l["blake2b_mib_per_s_one_core"], " MiB/s"),
        ("BLAKE2b-256 of an entry-sized message, one core", l["blake2b_entry_hashes_per_s_one_core"], "/s"),
        ("RocksDB synced write batches (1 entry each)", l["rocksdb_synced_writes_per_s"], "/s"),
        ("RocksDB synced entries in batches of 256", l["rocksdb_synced_entries_per_s_batches_of_256"], "/s"),
    ]
    if "grpc_empty_unary_per_s" in l:
        rows.append((f"empty gRPC unary call (health check), {l['grpc_empty_unary_clients']} clients",
                     l["grpc_empty_unary_per_s"], "/s"))
    for name, v, unit in rows:
        print(f"| {name} | {fmt(v)}{unit} |")


def scenarios_table(r):
    print("\n| Scenario | Result | Ratio | Goal |")
    print("|---|---|---|---|")
    if "catchup" in r:
        c = r["catchup"]
        print(f"| 2. Catch-up: {fmt(c['entries'])} entries from {c['firms']} firms | "
              f"{fmt(c['entries_per_s'])} entries/s ({c['seconds']:.1f} s; fresh node "
              f"{c['fresh_node_cpu_per_entry_us']:.0f} µs CPU/entry) | "
              f"{c['ratio_to_verify_all_cores']:.2f} of verify (all cores) | {goal_cell(c)} |")
    if "api_writes" in r:
        w = r["api_writes"]
        print(f"| 3. API writes, {w['clients']} clients, synced | {fmt(w['entries_per_s'])} entries/s, "
              f"p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms | "
              f"{w['ratio_to_sign_one_core']:.3f} of sign (one core) | {goal_cell(w)} |")
    if "propagation" in r:
        p = r["propagation"]
        print(f"| 4. Propagation A→B→C at {fmt(p['write_rate_achieved_per_s'])} writes/s | "
              f"p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, max {p['max_ms']:.1f} ms "
              f"({fmt(p['entries_measured'])} entries, {p['entries_missing_at_c']} missing) | | {goal_cell(p)} |")
    if "balance_queries" in r:
        b = r["balance_queries"]
        print(f"| 5. GetBalance, {b['clients']} clients | {fmt(b['get_balance']['per_s'])}/s, "
              f"p99 {b['get_balance']['p99_ms']:.1f} ms (empty call {fmt(b['empty_call']['per_s'])}/s) | "
              f"{b['ratio_to_empty_call']:.2f} of empty call | {goal_cell(b)} |")
    if "audit" in r:
        a = r["audit"]
        print(f"| 6. Audit of a {fmt(a['entries'])}-entry export ({a['export_bytes'] / 2**20:.0f} MiB) | "
              f"{fmt(a['entries_per_s'])} entries/s ({a['audit_seconds']:.1f} s, "
              f"{a['audit_peak_rss_mib']:.0f} MiB peak, {a.get('audit_result', '?')}) | "
              f"{a['ratio_to_verify_all_cores']:.2f} of verify (all cores) | {goal_cell(a)} |")
    if "footprint" in r:
        f = r["footprint"]
        print(f"| 7. Footprint at {fmt(f['entries'])} entries | "
              f"{f['disk_bytes_per_entry_after_compaction']:.0f} B/entry on disk after compaction "
              f"(raw signed entry {f['raw_signed_bytes_per_entry']:.0f} B; "
              f"{f['disk_bytes_per_entry_before_compaction']:.0f} B before); node peak RSS "
              f"{f['node_peak_rss_mib']:.0f} MiB | {f['ratio_to_raw']:.2f} of raw | {goal_cell(f)} |")
    if "catchup_large" in r:
        c = r["catchup_large"]
        print(f"| (7's node) catch-up of {fmt(c['entries'])} entries | {fmt(c['entries_per_s'])} entries/s "
              f"({c['seconds']:.0f} s) | {c['ratio_to_verify_all_cores']:.2f} of verify (all cores) | |")
    if "clearing" in r:
        c = r["clearing"]
        print(f"| 8. Clearing: {fmt(c['firms'])} firms, {fmt(c['obligations'])} obligations | "
              f"{c['solve_seconds_median'] * 1000:.1f} ms median of {c['solve_runs']} "
              f"(best {c['solve_seconds_best'] * 1000:.1f} ms, CPU {c['solve_cpu_seconds_median'] * 1000:.1f} ms); "
              f"cleared {c['cleared_share_of_debt']:.1%} "
              f"of the debt in {fmt(c['proposals'])} proposal(s), {fmt(c['legs'])} legs; second method "
              f"{c['second_method_seconds'] * 1000:.1f} ms (CPU {c['second_method_cpu_seconds'] * 1000:.1f} ms) | "
              f"{c['cleared_share_of_optimum']:.4f} of the second method's optimum | {goal_cell(c)} |")
    if "many_nodes" in r:
        n = r["many_nodes"]
        g, p, c = n["graph"], n["propagation"], n["convergence"]
        b, mem = n["gossip"]["burst"], n["memory"]
        print(f"| 9. Many nodes: {g['nodes']} keiretsud, {g['links']} links (degree "
              f"{g['degree_min']}-{g['degree_max']}, diameter {g['diameter_hops']}) | "
              f"single write to the farthest node p50 {p['farthest_node_ms']['p50']:.1f} ms, "
              f"p99 {p['farthest_node_ms']['p99']:.1f} ms; burst of {fmt(c['entries'])} entries "
              f"everywhere in {c['all_arrived_ms']:.0f} ms, one digest at {c['digests_equal_ms']:.0f} ms; "
              f"{b['entry_copies_sent_per_entry']:.1f} copies, {b['messages_per_entry']:.1f} messages, "
              f"{fmt(b['bytes_per_entry'])} B sent per entry; RSS {mem['rss_mib']['p50']:.0f} MiB/node | "
              f"redundancy {b['redundancy']:.2f}; burst CPU {c['cpu_fraction_of_machine']:.2f} of the "
              f"machine; RSS {mem['rss_total_fraction_of_machine_memory']:.3f} of memory | {goal_cell(n)} |")
    if r.get("errors"):
        print("\nScenarios that could not run: " + "; ".join(f"{k}: {v}" for k, v in r["errors"].items()))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench/table.py REPORT.json")
    main(sys.argv[1])
