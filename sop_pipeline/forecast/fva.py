"""Forecast Value Added scorecard (Gilliland; SPEC §5): does each step of the process beat the one before?

Steps, simplest first: naive → seasonal_naive → statistical → lightgbm → combination → production → consensus.
Every step is scored on the same rows (the SKU × origin × month all steps forecast). FVA is a difference of
WMAPE, positive when the step lowers the error, with a 90 % bootstrap interval over SKUs and origins.
Design notes: docs/forecast.md, *The FVA scorecard's rules*.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl

from sop_pipeline.forecast.metrics import SUMS, error_sums, ratios
from sop_pipeline.forecast.patterns import NEW_SKU_MONTHS

STEPS = ("naive", "seasonal_naive", "statistical", "lightgbm", "combination", "production", "consensus")
# Built from the other steps' winners, so never a candidate for champion themselves.
DERIVED_STEPS = ("production", "consensus")
CHAMPION_STEPS = tuple(step for step in STEPS if step not in DERIVED_STEPS)
STATISTICAL_METHODS = ("moving_average", "croston_sba", "tsb", "adida", "theta")
# A resample of very few SKUs cannot show noise (one SKU resampled is always itself), so a segment
# smaller than this takes its parent's champion.
MIN_SEGMENT_SKUS = 5
N_BOOT = 200
LEVEL = 0.9

_KEY = ["sku", "origin", "month"]
_SEGMENT = ["segment_type", "segment"]
# Segment views by a product attribute: (segment_type, the `products` column that names the segment).
_ATTRIBUTE_VIEWS = (("family", "family"), ("abc_xyz", "segment"), ("demand_pattern", "pattern"))


def _comparable_rows(backtest: pl.DataFrame, statistical_methods: Sequence[str]) -> pl.DataFrame:
    """The scored rows of every step's method (stockout months dropped) on the SKU × origin × month that
    every method forecast, with `_history`: `new` where the SKU had fewer than 6 months of history at the
    origin, else `established` (null when the backtest does not say)."""
    methods = {"naive", "seasonal_naive", "lightgbm", "combination", *DERIVED_STEPS, *statistical_methods}
    rows = backtest.filter(pl.col("method").is_in(list(methods)))
    present = rows["method"].n_unique()
    common = rows.group_by(_KEY).agg(pl.col("method").n_unique().alias("_n")).filter(pl.col("_n") == present)
    rows = rows.join(common.select(_KEY), on=_KEY, how="semi")
    if "is_stockout" in rows.columns:
        rows = rows.filter(~pl.col("is_stockout"))
    if "months_of_history" in rows.columns:
        history = pl.when(pl.col("months_of_history") < NEW_SKU_MONTHS).then(pl.lit("new")).otherwise(pl.lit("established"))
    else:
        history = pl.lit(None, pl.String)
    return rows.with_columns(history.alias("_history"))


def _comparable_sums(backtest: pl.DataFrame, statistical_methods: Sequence[str]) -> pl.DataFrame:
    """The error sums (`metrics.error_sums`) of `_comparable_rows` per SKU, history class, method and lag.

    Summed once here, per SKU: every segment view is then a sum of these, never another pass over the
    backtest's rows (ten million on a 10,000-SKU catalogue)."""
    return error_sums(_comparable_rows(backtest, statistical_methods), ["sku", "_history", "method", "lag"])


def _segmented(sums: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    """`sums` once per segment view, per segment, SKU, method and lag: total, family, ABC-XYZ segment,
    demand pattern (ADI/CV²), and history (`new` SKUs with fewer than 6 months of history at the origin)."""
    keys = ["sku", "method", "lag"]
    by_sku = sums.group_by(keys).agg(pl.col(name).sort().sum() for name in SUMS)
    views = [by_sku.with_columns(pl.lit("total").alias("segment_type"), pl.lit("total").alias("segment"))]
    if products is not None:
        for segment_type, column in _ATTRIBUTE_VIEWS:
            if column in products.columns:
                attribute = products.select("sku", pl.col(column).alias("segment"))
                view = by_sku.join(attribute, on="sku", how="inner")
                views.append(view.with_columns(pl.lit(segment_type).alias("segment_type")))
    history = sums.filter(pl.col("_history").is_not_null())  # null when the backtest has no months_of_history
    if not history.is_empty():
        views.append(history.rename({"_history": "segment"}).with_columns(pl.lit("history").alias("segment_type")))
    return pl.concat([view.select(*_SEGMENT, *keys, *SUMS) for view in views], how="vertical_relaxed")


def forecast_value_added(
    backtest: pl.DataFrame,
    products: pl.DataFrame | None = None,
    statistical_methods: Sequence[str] = STATISTICAL_METHODS,
) -> pl.DataFrame:
    """One row per segment, lag and process step: `segment_type, segment, lag, step, step_order,
    method, wmape, bias, n_scored, fva_vs_naive, fva_vs_previous`.

    `backtest` is the table of `backtest.backtest` (combination, production and consensus rows
    optional); `products` carries `sku, family, segment, pattern`. `fva_vs_naive` = WMAPE(naive) −
    WMAPE(step); `fva_vs_previous` compares with the step before it (null for naive).
    """
    scores = ratios(_segmented(_comparable_sums(backtest, statistical_methods), products), [*_SEGMENT, "method", "lag"])
    rank = {method: i for i, method in enumerate(statistical_methods)}

    statistical = (
        scores.filter(pl.col("method").is_in(list(statistical_methods)))
        .group_by(*_SEGMENT, "method")
        .agg(pl.col("wmape").mean().alias("_mean"))
        # Ties go to the first method in `statistical_methods`, the simpler one.
        .with_columns(pl.col("method").replace_strict(rank).alias("_rank"))
        .sort(*_SEGMENT, "_mean", "_rank", nulls_last=True)
        .group_by(_SEGMENT, maintain_order=True)
        .first()
        .select(*_SEGMENT, pl.col("method").alias("_statistical"))
    )
    named = ["naive", "seasonal_naive", "lightgbm", "combination", *DERIVED_STEPS]
    steps = (
        scores.join(statistical, on=_SEGMENT, how="left")
        .with_columns(
            pl.when(pl.col("method") == pl.col("_statistical"))
            .then(pl.lit("statistical"))
            .when(pl.col("method").is_in(named))
            .then(pl.col("method"))
            .alias("step")
        )
        .filter(pl.col("step").is_not_null())
        .with_columns(pl.col("step").replace_strict({step: i for i, step in enumerate(STEPS)}).alias("step_order"))
        .sort(*_SEGMENT, "lag", "step_order")
    )
    naive = pl.col("wmape").filter(pl.col("step") == "naive").first().over(*_SEGMENT, "lag")
    return steps.with_columns(
        (naive - pl.col("wmape")).alias("fva_vs_naive"),
        (pl.col("wmape").shift(1).over(*_SEGMENT, "lag", order_by="step_order") - pl.col("wmape")).alias(
            "fva_vs_previous"
        ),
    ).select(
        *_SEGMENT,
        "lag",
        "step",
        "step_order",
        "method",
        "wmape",
        "bias",
        "n_scored",
        "fva_vs_naive",
        "fva_vs_previous",
    )


def _positions(values: pl.Series) -> tuple[list, pl.Series]:
    """The sorted distinct values and each value's position among them."""
    distinct = values.unique().sort()
    return distinct.to_list(), values.replace_strict(distinct, pl.int_range(len(distinct), eager=True), return_dtype=pl.Int64)


def _boot_wmape(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None,
    n_boot: int,
    seed: int,
    metric: str = "wmape",
    steps: Sequence[str] = STEPS,
) -> Iterator[tuple[str, str, list[int], dict[str, np.ndarray], int]]:
    """Per segment of `fva`: its lags, per step the WMAPE (or MASE) of each lag on each of `n_boot`
    resamples (row 0 is the sample itself), shape (n_boot + 1, n_lags), and its number of SKUs.

    Each resample draws the segment's SKUs and, independently, the backtest origins, with replacement,
    and weighs each SKU × origin by the product of their draws (a two-way, "pigeonhole" bootstrap).
    Resampling SKUs alone would take every origin as certain: an origin whose months surprised every
    SKU at once (a launch, a lost customer) would look like no noise at all. Every step of a segment is scored on the
    same resamples, so differences between steps are paired. `steps` are the steps scored, simplest first; a
    step's own name counts as a method (the plan scorecard's stages are their own methods).
    """
    rows = _comparable_rows(backtest, (*STATISTICAL_METHODS, *steps))
    error = (pl.col("actual") - pl.col("forecast")).abs()
    if metric == "mase":  # mean scaled error: Σ|A−F|/scale over the rows of series with a scale, / rows
        rows = rows.filter(pl.col("scale") > 0).with_columns((error / pl.col("scale")).alias("_error"),
                                                             pl.lit(1.0).alias("_weight"))
    else:  # WMAPE: Σ|A−F| / ΣA
        rows = rows.with_columns(error.alias("_error"), pl.col("actual").alias("_weight"))
    if rows.is_empty():
        return
    skus, s = _positions(rows["sku"])
    origins, o = _positions(rows["origin"])
    lags, l = _positions(rows["lag"])
    s, o, l = s.to_numpy(), o.to_numpy(), l.to_numpy()
    shape = (len(skus), len(origins), len(lags))
    weight, scored = np.zeros(shape), np.zeros(shape, dtype=bool)
    weight[s, o, l] = rows["_weight"].to_numpy()  # the same for every method: the rows are comparable
    scored[s, o, l] = True
    new = np.zeros(shape[:2], dtype=bool)
    new[s, o] = (rows["_history"] == "new").fill_null(False).to_numpy()
    errors: dict[str, np.ndarray] = {}
    for (method,), part in rows.with_columns(s=s, o=o, l=l).group_by("method"):
        errors[method] = np.zeros(shape)
        errors[method][part["s"].to_numpy(), part["o"].to_numpy(), part["l"].to_numpy()] = part["_error"].to_numpy()

    member: dict[str, dict] = {}
    if products is not None:
        for segment_type, column in _ATTRIBUTE_VIEWS:
            if column in products.columns:
                member[segment_type] = dict(products.select("sku", column).iter_rows())
    step_methods = {(r[0], r[1], r[3], r[2]): r[4] for r in fva.select(*_SEGMENT, "lag", "step", "method").unique().iter_rows()}
    segments = fva.select(_SEGMENT).unique().sort(_SEGMENT).rows()
    for index, (segment_type, segment) in enumerate(segments):
        if segment_type == "history":
            in_segment = np.ones(len(skus), dtype=bool)
            cells = new if segment == "new" else ~new
        elif segment_type == "total":
            in_segment, cells = np.ones(len(skus), dtype=bool), np.ones(shape[:2], dtype=bool)
        else:
            if segment is None:  # SKUs without the attribute: no segment the scorecard reports
                continue
            mapping = member.get(segment_type, {})
            in_segment = np.array([sku in mapping and mapping[sku] == segment for sku in skus])
            cells = np.ones(shape[:2], dtype=bool)
        mask = scored & cells[:, :, None] & in_segment[:, None, None]
        keep_s, keep_o, keep_l = mask.any(axis=(1, 2)), mask.any(axis=(0, 2)), mask.any(axis=(0, 1))
        if not keep_s.any():
            continue
        mask = mask[np.ix_(keep_s, keep_o, keep_l)]
        segment_lags = [lag for lag, kept in zip(lags, keep_l, strict=True) if kept]
        n_s, n_o = int(keep_s.sum()), int(keep_o.sum())
        rng = np.random.default_rng([seed, index])
        by_sku = np.vstack([np.ones(n_s), rng.multinomial(n_s, np.full(n_s, 1 / n_s), size=n_boot)])
        by_origin = np.vstack([np.ones(n_o), rng.multinomial(n_o, np.full(n_o, 1 / n_o), size=n_boot)])

        def resampled(values: np.ndarray) -> np.ndarray:
            """Σ over SKUs and origins of the values weighted by each resample: (n_boot + 1, n_lags)."""
            part = np.where(mask, values[np.ix_(keep_s, keep_o, keep_l)], 0.0)
            return np.einsum("bs,sol,bo->bl", by_sku, part, by_origin, optimize=True)

        total = resampled(weight)
        out: dict[str, np.ndarray] = {}
        for step in steps:
            methods = [step_methods.get((segment_type, segment, step, lag)) for lag in segment_lags]
            if all(method is None or method not in errors for method in methods):
                continue
            values = np.full(shape, np.nan)
            for j, method in zip(np.flatnonzero(keep_l), methods, strict=True):
                if method in errors:
                    values[:, :, j] = errors[method][:, :, j]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[step] = np.where(total > 0, resampled(values) / total, np.nan)
        yield segment_type, segment, segment_lags, out, n_s


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def fva_interval(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None = None,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
    steps: Sequence[str] = STEPS,
) -> pl.DataFrame:
    """One row per segment, lag and step: bootstrap intervals of its WMAPE (`wmape_low`,
    `wmape_high`), of `fva_vs_naive` (`fva_low`, `fva_high`) and of `fva_vs_previous`
    (`fva_previous_low`, `fva_previous_high`); `is_significant` when the FVA-vs-naive interval
    excludes 0.

    Resamples SKUs and backtest origins (see `_boot_wmape`) with a fixed seed and recomputes every WMAPE
    on each resample, so an interval says whether a gain is larger than the luck of which SKUs and which
    months happened to be in the backtest. A lag scored at one origin only (lag 12 of a 12-origin
    backtest) varies by SKU alone: its origin either is drawn or leaves the resample out. `fva` is
    the table of `forecast_value_added` on the same backtest: it says which method each step is. `steps`: the
    steps `fva` names, simplest first (the plan scorecard scores the meetings of the cycle with it).
    """
    order = fva.select(*_SEGMENT, "lag", "step", "step_order").unique()
    out = []
    for segment_type, segment, lags, boot, _ in _boot_wmape(backtest, fva, products, n_boot, seed, steps=steps):
        present = order.filter(segment_type=segment_type, segment=segment).sort("lag", "step_order")
        for (lag,), steps in present.group_by("lag", maintain_order=True):
            j = lags.index(lag)
            previous = None
            for step in steps["step"]:
                if step not in boot:
                    continue
                wmape = boot[step][1:, j]
                gain = boot["naive"][1:, j] - wmape if "naive" in boot else np.full(n_boot, np.nan)
                gain_previous = boot[previous][1:, j] - wmape if previous else np.full(n_boot, np.nan)
                out.append((segment_type, segment, lag, step, *_interval(wmape, level), *_interval(gain, level),
                            *_interval(gain_previous, level)))
                previous = step
    columns = ("wmape_low", "wmape_high", "fva_low", "fva_high", "fva_previous_low", "fva_previous_high")
    intervals = pl.DataFrame(
        out,
        schema={"segment_type": pl.String, "segment": pl.String, "lag": pl.Int32, "step": pl.String,
                **{name: pl.Float64 for name in columns}},
        orient="row",
    )
    intervals = intervals.with_columns(pl.col(name).fill_nan(None) for name in columns)  # undefined, not a number
    return (
        fva.select(*_SEGMENT, "lag", "step", "step_order", "fva_vs_naive")
        .join(intervals, on=[*_SEGMENT, "lag", "step"], how="left")
        .with_columns(((pl.col("fva_low") > 0) | (pl.col("fva_high") < 0)).fill_null(False).alias("is_significant"))
        .sort(*_SEGMENT, "lag", "step_order")
    )


CHAMPION_SCHEMA = {
    "segment_type": pl.String, "segment": pl.String, "step": pl.String, "method": pl.String,
    "mean_mase": pl.Float64, "gain_low": pl.Float64, "gain_high": pl.Float64,
}


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Each row's mean over its known values; NaN for a row with none (np.nanmean, without its warning: a
    resample that drew no scorable SKU is expected, and the planner's console is not the place for it)."""
    known = ~np.isnan(values)
    counts = known.sum(axis=1)
    totals = np.where(known, values, 0.0).sum(axis=1)
    return np.divide(totals, counts, out=np.full(len(values), np.nan), where=counts > 0)


def choose_champion(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None = None,
    parent_view: str = "total",
    child_views: Sequence[str] = ("demand_pattern",),
    max_lag: int | None = None,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per segment of `parent_view` and `child_views`: the chosen step, its method, its mean
    MASE over lags 1..max_lag, and the interval of its gain over the step it displaced
    (`gain_low`, `gain_high`; null when nothing was displaced).

    The criterion is the plain mean MASE over lags: every lag has the same say, since the plan uses
    every month of the horizon, and every SKU of the segment too. A pooled WMAPE would let the few
    largest SKUs pick the method for all of them: on the car parts data it chose the global model for
    lumpy series where a simple ADIDA forecast is better on most of them. The scorecard still reports
    WMAPE, the volume-weighted number the business plans with. A segment starts from the simplest step (naive) in the parent view and
    from the parent's champion in a child view; walking the steps from simple to complex, a step
    displaces the current choice only when its gain's bootstrap interval lies above 0. A gain smaller
    than its noise never changes the forecast a planner works with, and a small segment keeps the
    choice made on the whole catalogue unless its own evidence is clear (one with fewer than
    `MIN_SEGMENT_SKUS` SKUs always keeps it).
    """
    frame = fva if max_lag is None else fva.filter(pl.col("lag") <= max_lag)
    frame = frame.filter(pl.col("step").is_in(CHAMPION_STEPS), pl.col("segment_type").is_in([parent_view, *child_views]))
    methods = {(r[0], r[1], r[2]): r[3] for r in frame.select(*_SEGMENT, "step", "method").unique().iter_rows()}
    boots = [b for b in _boot_wmape(backtest, frame, products, n_boot, seed, metric="mase")
             if b[0] in (parent_view, *child_views)]
    boots.sort(key=lambda b: b[0] != parent_view)  # the parent's choice first: the children start from it
    parent_choice: str | None = None
    out = []
    for segment_type, segment, _, boot, n_skus in boots:
        mean = {step: _nanmean_rows(values) for step, values in boot.items()}
        current = parent_choice if segment_type != parent_view and parent_choice in mean else "naive"
        if current not in mean:
            current = next(step for step in CHAMPION_STEPS if step in mean)
        gain: tuple[float, float] = (float("nan"), float("nan"))
        too_small = segment_type != parent_view and n_skus < MIN_SEGMENT_SKUS
        for step in CHAMPION_STEPS:
            if too_small or step == current or step not in mean:
                continue
            low, high = _interval(mean[current][1:] - mean[step][1:], level)
            if low > 0:
                current, gain = step, (low, high)
        if segment_type == parent_view:
            parent_choice = current
        out.append((segment_type, segment, current, methods[(segment_type, segment, current)],
                    float(mean[current][0]), *gain))
    return pl.DataFrame(out, schema=CHAMPION_SCHEMA, orient="row").with_columns(
        pl.col("gain_low").fill_nan(None), pl.col("gain_high").fill_nan(None)
    ).sort(_SEGMENT)
