#!/usr/bin/env python3
"""Builds a scorecard from a simulated city: features as the service computed them (from what
the providers publish, never the simulator's hidden risk) and, for the training part only,
whether a loan to each enterprise defaulted (the simulator's /_sim/outcomes).

    scorecard_fit.py FEATURES.csv OUTCOMES.csv VERSION OUT.json

FEATURES.csv: uscc,features (JSON object, as stored in profile.features), data_months.
The hold-out part (the same split bench/scorecard evaluates on) is never looked at here.
Method: per feature, bins at training quantiles (integer cut points), merged until each bin
holds at least 2% of the training set; weight of evidence per bin (with a missing bin);
logistic regression on the WOE values; points = -coefficient x WOE x factor, where the factor
and offset come from the scaling (base score at base odds, points to double the odds).
Floating point is used here, offline, to fit; the card itself holds integers only.
"""
import csv
import hashlib
import json
import math
import sys

import numpy as np

FEATURES = {
    # feature: (kind, reason_code, zh, en)
    "months_in_business": ("num", "R01_YOUNG", "经营年限较短", "few months in business"),
    "registration_status": ("cat", "R02_STATUS", "登记状态异常", "registration not active"),
    "tax_on_time_rate_12m": ("num", "R03_TAX_LATE", "纳税申报存在逾期", "tax returns filed late"),
    "tax_paid_12m": ("num", "R04_TAX_LOW", "纳税规模较小", "little tax paid"),
    "tax_paid_trend": ("num", "R05_TAX_FALL", "纳税额下降", "tax paid falling"),
    "unpaid_tax": ("num", "R06_TAX_UNPAID", "存在欠缴税款", "tax due and unpaid"),
    "tax_credit_grade": ("cat", "R07_TAX_GRADE", "纳税信用等级偏低", "low taxpayer credit grade"),
    "headcount_avg_12m": ("num", "R08_FEW_STAFF", "参保人数较少", "few insured employees"),
    "headcount_trend": ("num", "R09_STAFF_FALL", "参保人数下降", "insured headcount falling"),
    "social_insurance_arrears_12m": ("num", "R10_SI_ARREARS", "社保存在欠缴", "social-insurance arrears"),
    "electricity_trend": ("num", "R11_POWER_FALL", "用电量下降", "electricity use falling"),
    "electricity_volatility_12m": ("num", "R12_POWER_UNSTEADY", "用电量波动较大", "electricity use unsteady"),
    "utility_late_rate_12m": ("num", "R13_UTILITY_LATE", "水电气缴费存在逾期", "utility bills paid late"),
    "utility_unpaid": ("num", "R14_UTILITY_UNPAID", "存在水电气欠费", "utility bills unpaid"),
    "contract_fulfilment_rate_24m": ("num", "R15_CONTRACT_UNFULFILLED", "合同履约率偏低", "contracts not fulfilled"),
    "contract_breaches_24m": ("num", "R16_CONTRACT_BREACH", "存在合同违约或纠纷", "contracts breached or disputed"),
    "serious_penalties_36m": ("num", "R17_PENALTY_SERIOUS", "存在严重行政处罚", "serious administrative penalties"),
    "other_penalties_36m": ("num", "R18_PENALTY", "存在行政处罚", "administrative penalties"),
    "blacklisted_now": ("num", "R19_LISTED", "当前被列入失信名单", "on a dishonesty list"),
    "listings_36m": ("num", "R20_LISTED_BEFORE", "曾被列入失信名单", "listed as dishonest before"),
    "valid_licences": ("num", "R21_LICENCES", "有效行政许可较少", "few valid licences"),
}
CATEGORIES = {
    "registration_status": ["active", "suspended", "revoked", "deregistered"],
    "tax_credit_grade": ["A", "B", "M", "C", "D"],
}
# 800 points at odds of 32 good to 1 bad, 100 points to double them: A (>= 800) about 3% bad
# or less, B (650-799) up to about 8%, C (500-649) up to about 20%, D above.
SCALING = {"base_score": 800, "base_odds": 32, "points_to_double_odds": 100}
HOLDOUT_PERCENT = 30
MIN_BIN_SHARE = 0.02
MAX_BINS = 6


def holdout(uscc):
    """The same split as bench/scorecard: by a hash of the code, 30% held out."""
    return int(hashlib.sha256(uscc.encode()).hexdigest()[:8], 16) % 100 < HOLDOUT_PERCENT


def woe(good, bad, tg, tb):
    return math.log(((good + 0.5) / (tg + 0.5)) / ((bad + 0.5) / (tb + 0.5)))


def numeric_bins(values, labels):
    present = sorted(v for v in values if v is not None)
    if not present:
        return [(None, None)]
    distinct = sorted(set(present))
    if len(distinct) <= MAX_BINS:
        cuts = [int(v) for v in distinct[1:]]  # few values (counts, flags): one bin each
    else:
        cuts = sorted(set(int(present[int(len(present) * q / MAX_BINS)]) for q in range(1, MAX_BINS)))
    cuts = [c for c in cuts if c > present[0]]
    edges = [None] + cuts + [None]
    bins = list(zip(edges[:-1], edges[1:]))

    def count(b):
        lo, hi = b
        return sum(1 for v in present if (lo is None or v >= lo) and (hi is None or v < hi))

    # Merge bins that hold too few.
    changed = True
    while changed and len(bins) > 1:
        changed = False
        for i, b in enumerate(bins):
            if count(b) < MIN_BIN_SHARE * len(values):
                j = i + 1 if i + 1 < len(bins) else i - 1
                a, c = sorted([i, j])
                bins[a:c + 1] = [(bins[a][0], bins[c][1])]
                changed = True
                break
    return bins


def in_bin(v, b):
    lo, hi = b
    return v is not None and (lo is None or v >= lo) and (hi is None or v < hi)


def main():
    feats_path, outcomes_path, version, out_path = sys.argv[1:5]
    outcome = {}
    with open(outcomes_path) as f:
        for row in csv.DictReader(f):
            outcome[row["uscc"]] = int(row["default"])
    rows = []
    with open(feats_path) as f:
        for row in csv.DictReader(f):
            u = row["uscc"]
            if u not in outcome or holdout(u) or int(row["data_months"]) < 12:
                continue
            rows.append((json.loads(row["features"]), outcome[u]))
    y = np.array([r[1] for r in rows], dtype=float)
    tb = y.sum()
    tg = len(y) - tb
    print(f"training on {len(rows)} enterprises, {int(tb)} defaults ({tb / len(y):.1%})", file=sys.stderr)

    characteristics = []
    columns = []
    for name, (kind, code, zh, en) in FEATURES.items():
        values = [r[0].get(name) for r in rows]
        bins = []
        if kind == "cat":
            groups = [[c] for c in CATEGORIES[name]]
            for g in groups:
                idx = [i for i, v in enumerate(values) if v in g]
                bins.append(({"values": g}, idx))
        else:
            for b in numeric_bins(values, y):
                idx = [i for i, v in enumerate(values) if in_bin(v, b)]
                spec = {}
                if b[0] is not None:
                    spec["min"] = b[0]
                if b[1] is not None:
                    spec["max"] = b[1]
                bins.append((spec, idx))
        miss = [i for i, v in enumerate(values) if v is None]
        bins.append(({"missing": True}, miss))
        col = np.zeros(len(rows))
        specs = []
        for spec, idx in bins:
            bad = y[idx].sum() if idx else 0.0
            good = len(idx) - bad
            w = woe(good, bad, tg, tb) if idx else 0.0
            col[idx] = w
            specs.append((spec, w, len(idx), bad))
        characteristics.append((name, code, zh, en, specs))
        columns.append(col)

    def fit(active):
        X = np.column_stack([np.ones(len(rows))] + [columns[k] for k in active])
        b = np.zeros(X.shape[1])
        for _ in range(50):  # Newton-Raphson with a little ridge for stability
            p = 1 / (1 + np.exp(-(X @ b)))
            W = p * (1 - p)
            H = X.T @ (X * W[:, None]) + 1e-3 * np.eye(X.shape[1])
            step = np.linalg.solve(H, X.T @ (p - y))
            b -= step
            if np.abs(step).max() < 1e-8:
                break
        return b

    # A feature whose weight comes out with the wrong sign (more evidence of good raising the
    # odds of bad: collinear with another, or noise) would give points against its own
    # meaning; it is left out (all its bins score 0) and the rest refitted.
    active = list(range(len(columns)))
    while True:
        b = fit(active)
        wrong = [active[i] for i in range(len(active)) if b[i + 1] >= 0]
        if not wrong:
            break
        for k in wrong:
            print(f"  left out (weight of the wrong sign): {characteristics[k][0]}", file=sys.stderr)
        active = [k for k in active if k not in wrong]
    beta = np.zeros(len(columns) + 1)
    beta[0] = b[0]
    for i, k in enumerate(active):
        beta[k + 1] = b[i + 1]

    factor = SCALING["points_to_double_odds"] / math.log(2)
    offset = SCALING["base_score"] - factor * math.log(SCALING["base_odds"])
    # Model: logit(bad) = b0 + sum(b_i * woe_i); ln(odds good) = -logit(bad).
    base_points = round(offset - factor * beta[0])
    card_chars = []
    for k, (name, code, zh, en, specs) in enumerate(characteristics):
        b = beta[k + 1]
        out_bins = []
        for spec, w, n, bad in specs:
            out_bins.append({**spec, "points": int(round(-b * w * factor))})
        card_chars.append({"feature": name, "reason_code": code, "reason_zh": zh, "reason_en": en, "bins": out_bins})
        print(f"  {name:32s} coefficient {b:+.3f}  bins " +
              ", ".join(f"{json.dumps({x: y for x, y in s.items()})}:{int(round(-b * w * factor))}" for s, w, n, bad in specs),
              file=sys.stderr)
    card = {
        "version": version,
        "description": "Built by bench/scorecard_fit.py on the simulated city (seed 42, 20,000 enterprises): "
                       "quantile bins, weight of evidence, logistic regression; only what the providers publish.",
        "scaling": SCALING,
        "base_points": base_points,
        "min_score": 0,
        "max_score": 1000,
        "min_data_months": 12,
        "grades": [{"grade": "A", "min_score": 800}, {"grade": "B", "min_score": 650},
                   {"grade": "C", "min_score": 500}, {"grade": "D", "min_score": 0}],
        "knockouts": [{"feature": "blacklisted_now", "equals": 1, "max_grade": "D", "reason_code": "K01_LISTED",
                       "reason_zh": "当前被列入失信名单，等级最高为D", "reason_en": "on a dishonesty list now: grade D at best"}],
        "characteristics": card_chars,
    }
    with open(out_path, "w") as f:
        json.dump(card, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {out_path}: base points {base_points}", file=sys.stderr)


if __name__ == "__main__":
    main()
