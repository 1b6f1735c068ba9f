import json

from _record import record


def load_dataset(kind, data_files):
    out = {}
    for split, path in data_files.items():
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        out[split] = rows
    record("load_dataset", kind=kind, data_files=data_files, rows={k: len(v) for k, v in out.items()},
           columns={k: sorted(v[0]) if v else [] for k, v in out.items()})
    return out
