#!/usr/bin/env python3
"""Builds a scorecard from a simulated city: features as the service computed them (from what
the providers publish, never the simulator's hidden risk) and, for the training part only,
whether a loan to each enterprise defaulted (the simulator's /_sim/outcomes).

    scorecard_fit.py FEATURES.csv OUTCOMES.csv VERSION OUT.json

FEATURES.csv: uscc,features (JSON object, as stored in profile.features), data_months.
The hold-out part (the same split bench/scorecard evaluates on) is never looked at here.
Method: per feature, bins at training quantiles (integer cut points), merged until each bin
holds at least 2% of the training set; then adjacent bins whose bad rates break the feature's
declared direction are merged until the bad rate runs one way (monotone binning, as
optbinning's `monotonic_trend` does; categories are kept in their declared order); weight of
evidence per bin (with a missing bin); logistic regression on the WOE values; points =
-coefficient x WOE x factor, where the factor and offset come from the scaling (base score at
base odds, points to double the odds). A negative coefficient times WOE that rises in the
favourable direction gives points that never fall in that direction, and rounding keeps that.
A feature left with one bin, or whose coefficient comes out with the wrong sign, scores 0 in
every bin and is marked `informational`.
The card carries the development sample (the training part) as counts per 100-point score
band and per bin of each feature: the baseline the regulators' PSI is measured against.
Floating point is used here, offline, to fit; the card itself holds integers only.
"""
import csv
import hashlib
import json
import math
import sys

import numpy as np

# feature: (kind, direction, reason_code, zh, en). The direction is declared, not learnt: a card
# whose points run against it is refused by `xyd scorecard publish`.
FEATURES = {
    "months_in_business": ("num", "higher_is_better", "R01_YOUNG", "经营年限较短", "few months in business"),
    "registration_status": ("cat", "order", "R02_STATUS", "登记状态异常", "registration not active"),
    "tax_on_time_rate_12m": ("num", "higher_is_better", "R03_TAX_LATE", "纳税申报存在逾期", "tax returns filed late"),
    "tax_paid_12m": ("num", "higher_is_better", "R04_TAX_LOW", "纳税规模较小", "little tax paid"),
    "tax_paid_trend": ("num", "higher_is_better", "R05_TAX_FALL", "纳税额变化", "change in tax paid"),
    "unpaid_tax": ("num", "lower_is_better", "R06_TAX_UNPAID", "存在欠缴税款", "tax due and unpaid"),
    "tax_credit_grade": ("cat", "order", "R07_TAX_GRADE", "纳税信用等级偏低", "low taxpayer credit grade"),
    "headcount_avg_12m": ("num", "higher_is_better", "R08_FEW_STAFF", "参保人数较少", "few insured employees"),
    "headcount_trend": ("num", "higher_is_better", "R09_STAFF_FALL", "参保人数变化", "change in insured headcount"),
    "social_insurance_arrears_12m": ("num", "lower_is_better", "R10_SI_ARREARS", "社保存在欠缴", "social-insurance arrears"),
    "electricity_trend": ("num", "higher_is_better", "R11_POWER_FALL", "用电量变化", "change in electricity use"),
    "electricity_volatility_12m": ("num", "lower_is_better", "R12_POWER_UNSTEADY", "用电量波动较大", "electricity use unsteady"),
    "utility_late_rate_12m": ("num", "lower_is_better", "R13_UTILITY_LATE", "水电气缴费存在逾期", "utility bills paid late"),
    "utility_unpaid": ("num", "lower_is_better", "R14_UTILITY_UNPAID", "存在水电气欠费", "utility bills unpaid"),
    "contract_fulfilment_rate_24m": ("num", "higher_is_better", "R15_CONTRACT_UNFULFILLED", "合同履约率偏低", "contracts not fulfilled"),
    "contract_breaches_24m": ("num", "lower_is_better", "R16_CONTRACT_BREACH", "存在合同违约或纠纷", "contracts breached or disputed"),
    "serious_penalties_36m": ("num", "lower_is_better", "R17_PENALTY_SERIOUS", "存在严重行政处罚", "serious administrative penalties"),
    "other_penalties_36m": ("num", "lower_is_better", "R18_PENALTY", "存在行政处罚", "administrative penalties"),
    "blacklisted_now": ("num", "lower_is_better", "R19_LISTED", "当前被列入失信名单", "on a dishonesty list"),
    "listings_36m": ("num", "lower_is_better", "R20_LISTED_BEFORE", "曾被列入失信名单", "listed as dishonest before"),
    "valid_licences": ("num", "higher_is_better", "R21_LICENCES", "有效行政许可较少", "few valid licences"),
}
# Best first.
CATEGORIES = {
    "registration_status": ["active", "suspended", "revoked", "deregistered"],
    "tax_credit_grade": ["A", "B", "M", "C", "D"],
}
# Set by policy, not fitted (the simulated city has no commitment history): small beside the
# fitted points, and monotone.
POLICY_FEATURES = [
    {"feature": "commitments_kept_36m", "direction": "higher_is_better", "reason_code": "R22_NO_KEPT_COMMITMENT",
     "reason_zh": "尚无已履行的信用承诺", "reason_en": "no credit commitment kept yet",
     "bins": [{"max": 1, "points": 0}, {"min": 1, "max": 2, "points": 6}, {"min": 2, "points": 10}, {"missing": True, "points": 0}]},
    {"feature": "commitments_broken_36m", "direction": "lower_is_better", "reason_code": "R23_COMMITMENT_BROKEN",
     "reason_zh": "存在违背的信用承诺", "reason_en": "a credit commitment was broken",
     "bins": [{"max": 1, "points": 0}, {"min": 1, "max": 2, "points": -20}, {"min": 2, "points": -40}, {"missing": True, "points": 0}]},
]
PENALTY_POLICY = {"repaired_counts_months": 0, "unpublished_counts_months": None}
# 800 points at odds of 32 good to 1 bad, 100 points to double them: A (>= 800) about 3% bad
# or less, B (650-799) up to about 8%, C (500-649) up to about 20%, D above.
SCALING = {"base_score": 800, "base_odds": 32, "points_to_double_odds": 100}
HOLDOUT_PERCENT = 30
MIN_BIN_SHARE = 0.02
MAX_BINS = 8
SCORE_BANDS = 10  # 100-point bands, as ModelHealth.scoreBand


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
    for name, (kind, direction, code, zh, en) in FEATURES.items():
        values = [r[0].get(name) for r in rows]
        if kind == "cat":
            groups = [[[c]] for c in CATEGORIES[name]]  # each group: a list of value lists
            index = [[i for i, v in enumerate(values) if v == c] for c in CATEGORIES[name]]
        else:
            raw = numeric_bins(values, y)
            groups = [[b] for b in raw]
            index = [[i for i, v in enumerate(values) if in_bin(v, b)] for b in raw]
        # Worse later: categories are listed best first; numbers rise, so a feature where higher
        # is better has its worst values first.
        worse_later = direction in ("order", "lower_is_better")
        pairs = [(g, idx) for g, idx in zip(groups, index)]
        while True:
            rates = [((sum(y[idx]) if idx else 0.0) + 0.5) / (len(idx) + 1.0) for _, idx in pairs]
            for i in range(len(pairs) - 1):
                if (rates[i + 1] < rates[i]) if worse_later else (rates[i + 1] > rates[i]):
                    pairs[i:i + 2] = [(pairs[i][0] + pairs[i + 1][0], pairs[i][1] + pairs[i + 1][1])]
                    break
            else:
                break
        bins = []
        for g, idx in pairs:
            if kind == "cat":
                spec = {"values": [v for vs in g for v in vs]}
            else:
                lo, hi = g[0][0], g[-1][1]
                spec = {}
                if lo is not None:
                    spec["min"] = lo
                if hi is not None:
                    spec["max"] = hi
            bins.append((spec, sorted(idx)))
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
        characteristics.append((name, direction, code, zh, en, specs))
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
    # meaning; it is left out (all its bins score 0, marked informational) and the rest refitted.
    active = [k for k in range(len(columns)) if np.ptp(columns[k]) > 0]
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
    for k, (name, direction, code, zh, en, specs) in enumerate(characteristics):
        b = beta[k + 1]
        out_bins = [{**spec, "points": int(round(-b * w * factor))} for spec, w, n, bad in specs]
        # Hiding data must not pay: the missing bin scores at most what the best value does.
        best = max(x["points"] for x in out_bins if not x.get("missing"))
        for x in out_bins:
            if x.get("missing"):
                x["points"] = min(x["points"], best)
        ch = {"feature": name, "reason_code": code, "reason_zh": zh, "reason_en": en, "direction": direction}
        if direction == "order":
            ch["order"] = CATEGORIES[name]
        if all(x["points"] == 0 for x in out_bins):
            ch["informational"] = True
        ch["bins"] = out_bins
        card_chars.append(ch)
        print(f"  {name:32s} coefficient {b:+.3f}  bins " +
              ", ".join(f"{json.dumps(s)}:{p['points']}" for (s, w, n, bad), p in zip(specs, out_bins)), file=sys.stderr)
    card_chars += POLICY_FEATURES

    # The development sample as the card scores it: the baseline of the regulators' PSI.
    def bin_of(ch, v):
        for i, b in enumerate(ch["bins"]):
            if b.get("missing"):
                if v is None:
                    return i
            elif "values" in b:
                if v in b["values"]:
                    return i
            elif v is not None and not isinstance(v, str) and ("min" not in b or v >= b["min"]) and ("max" not in b or v < b["max"]):
                return i
        return None
    score_counts = [0] * SCORE_BANDS
    feature_counts = {ch["feature"]: [0] * len(ch["bins"]) for ch in card_chars}
    for feats, _ in rows:
        total = base_points
        for ch in card_chars:
            i = bin_of(ch, feats.get(ch["feature"]))
            if i is not None:
                total += ch["bins"][i]["points"]
                feature_counts[ch["feature"]][i] += 1
        score_counts[min(SCORE_BANDS - 1, max(0, min(1000, max(0, total)) // 100))] += 1
    card = {
        "version": version,
        "description": "Built by bench/scorecard_fit.py on the simulated city (seed 42, 20,000 enterprises): quantile bins made "
                       "monotone in each feature's declared direction, weight of evidence, logistic regression; only what the "
                       "providers publish. Credit commitments kept and broken are scored by policy (the city has no commitment "
                       "history to fit them on). Repaired penalties stop counting on the repair day.",
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
        "penalty_policy": PENALTY_POLICY,
        "development": {"enterprises": len(rows), "defaults": int(tb), "score_bands": score_counts, "features": feature_counts},
    }
    with open(out_path, "w") as f:
        json.dump(card, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {out_path}: base points {base_points}", file=sys.stderr)


if __name__ == "__main__":
    main()
