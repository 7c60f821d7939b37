# Prints the markdown table of docs/performance.md from the JSON files bench/side-by-side.sh wrote (argument: its OUTDIR).
import json, sys, glob, os
d = sys.argv[1]
rows = ["1.1b:Q4_0","1.1b:Q8_0","1.1b:Q4_K_M","1.1b:F16","110m:Q4_0","110m:Q8_0","110m:Q4_K_M","110m:F16"]
loads = {}
if os.path.exists(os.path.join(d, "log")):
    cur=None
    for line in open(os.path.join(d,"log")):
        if line.startswith("=="):
            p=line.split(); cur=(p[1],p[2],p[3]); loads[cur]=[p[5]]
        elif "done load" in line and cur: loads[cur].append(line.split()[-1])
print("| model | threads | prefill pp64 tok/s, Cairn / llama.cpp | ratio | decode tg64 tok/s, Cairn / llama.cpp | ratio | weight MB per token | bandwidth GB/s | decode limit tok/s | % of limit, Cairn / llama.cpp | Cairn peak RSS (budget) | load avg |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
def b(x): return f"**{x:.2f}×**"
for r in rows:
    s,t = r.split(":")
    for th in (1,2):
        cf = f"{d}/cairn-{s}-{t}-t{th}.json"; lf = f"{d}/llama-{s}-{t}-t{th}.json"
        if not (os.path.exists(cf) and os.path.exists(lf)): continue
        try:
            c = json.load(open(cf)); l = json.load(open(lf))
        except Exception as e:
            print(f"| {s} {t} | {th} | error {e} |"); continue
        lp = next(x["avg_ts"] for x in l if x["n_prompt"]>0 and x["n_gen"]==0)
        lg = next(x["avg_ts"] for x in l if x["n_gen"]>0 and x["n_prompt"]==0)
        cp, cg = c["prefill_tok_s"], c["decode_tok_s"]
        pr, gr = cp/lp, cg/lg
        prs = b(pr) if pr>=0.8 else f"{pr:.2f}×"
        grs = b(gr) if gr>=1.0 else f"{gr:.2f}×"
        lim = c.get("decode_limit_tok_s",0)
        budget = (c["file_bytes"]+c["kv_cache_bytes"])/2**20+64
        rss = c["peak_rss_bytes"]/2**20
        name = {"1.1b":"1.1B","110m":"110M"}[s]
        ld = "–".join(loads.get((s,t,f"t{th}"),[]))
        print(f"| {name} {t} | {th} | {cp:.1f} / {lp:.1f} | {prs} | {cg:.1f} / {lg:.1f} | {grs} | {c['weight_bytes_per_token']/1e6:.0f} | {c.get('bandwidth_bytes_s',0)/1e9:.1f} | {lim:.1f} | {100*cg/lim:.0f} % / {100*lg/lim:.0f} % | {rss:.0f} MiB ({budget:.0f}) | {ld} |")
