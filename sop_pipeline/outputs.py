"""The column contract of every output table in schema `sop`: what BI tools may rely on.

One place for the meaning of every column. The output tables of docs/outputs.md are rendered from it
(`make readme`), and the end-to-end test checks that each table of a demo run has exactly these columns,
so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputTable:
    name: str
    group: str
    grain: str
    columns: dict[str, str]


CYCLE = {"cycle": "The cycle the row belongs to (first day of its month)."}
SCENARIO = {"scenario": "Scenario name from the scenario file (`cautious`, `central`, `ambitious` by default)."}

OUTPUT_TABLES: tuple[OutputTable, ...] = (
    OutputTable("forecast", "Forecast", "One row per cycle, SKU still selling at the cycle, and horizon month: the "
                "production forecast, by the step that won the SKU's demand pattern in the backtest.", {
        **CYCLE,
        "sku": "SKU.",
        "month": "Forecast month (first day).",
        "lag": "Months ahead: 1 for the cycle's own month.",
        "step": "The FVA step that won the SKU's demand pattern: `naive`, `seasonal_naive`, `statistical`, `lightgbm`, "
                "`combination`; `lightgbm` for a new SKU (fewer than 6 months of history).",
        "method": "The model behind the step (`theta`, `tsb`, `adida`, `croston_sba`, `moving_average`, `lightgbm`, "
                  "`combination`, ...).",
        "p10": "10 % demand quantile (units), from the method's own backtest errors; 0 <= p10 <= p50.",
        "p50": "Median, the point forecast (units); 0 after the SKU's last selling month.",
        "p90": "90 % demand quantile (units); p90 >= p50.",
    }),
    OutputTable("forecast_backtest", "Forecast", "One row per cycle, SKU, backtest origin, month and method: what "
                "each method forecast from that origin (trained only on months before it) against what then sold.", {
        **CYCLE,
        "sku": "SKU.",
        "origin": "The month the forecast was made at (one of the last `SOP_BACKTEST_ORIGINS` months).",
        "month": "The month forecast.",
        "lag": "Months ahead of the origin: 1 for the origin's own month.",
        "actual": "Units sold that month (all channels).",
        "is_stockout": "The month was out of stock: its sales understate demand and it is not scored.",
        "method": "`naive`, `seasonal_naive`, `moving_average`, `croston_sba`, `tsb`, `adida`, `theta`, `lightgbm`, "
                  "`combination` (mean of the three best methods of the SKU's demand pattern); `production` (each SKU "
                  "by its pattern's champion, new SKUs by `lightgbm`) and `consensus` (production + events + that "
                  "origin's overrides).",
        "forecast": "Units forecast.",
        "scale": "The SKU's in-sample seasonal-naive MAE before the origin (the MASE denominator).",
        "months_of_history": "Months with known sales before the origin; under 6 the SKU is scored as new.",
    }),
    OutputTable("fva", "Forecast", "One row per cycle, segment, lag and process step: the Forecast Value Added "
                "scorecard (see *Reading the FVA scorecard*).", {
        **CYCLE,
        "segment_type": "`total`, `family`, `abc_xyz`, `demand_pattern` (ADI/CV²) or `history` (new vs established).",
        "segment": "The segment: `total`, a family, an ABC-XYZ class such as `AX`, a pattern (`smooth`, `erratic`, "
                   "`intermittent`, `lumpy`), or `new` / `established` (6 months of history at the origin).",
        "lag": "Months ahead (1..horizon).",
        "step": "Process step: `naive` → `seasonal_naive` → `statistical` → `lightgbm` → `combination` → `production` "
                "→ `consensus`.",
        "step_order": "The step's position in that chain.",
        "method": "The model behind the step (for `statistical`, the best classical method of the segment).",
        "wmape": "Σ|actual − forecast| / Σ actual, stockout months left out.",
        "bias": "Σ(forecast − actual) / Σ actual: positive means over-forecasting.",
        "n_scored": "SKU-months scored (the same rows for every step).",
        "fva_vs_naive": "WMAPE(naive) − WMAPE(step): positive means the step beats a naive guess.",
        "fva_vs_previous": "WMAPE(previous step) − WMAPE(step): positive means this step added value.",
        "wmape_low": "Lower end of the 90 % bootstrap interval of `wmape` (SKUs and backtest origins resampled together, 200 draws, seed 0).",
        "wmape_high": "Upper end of that interval.",
        "fva_low": "Lower end of the 90 % bootstrap interval of `fva_vs_naive` (same resamples, paired).",
        "fva_high": "Upper end of that interval.",
        "fva_previous_low": "Lower end of the 90 % bootstrap interval of `fva_vs_previous`.",
        "fva_previous_high": "Upper end of that interval.",
        "is_significant": "The `fva_vs_naive` interval excludes 0: the gain (or loss) is larger than its noise.",
    }),
    OutputTable("forecast_champions", "Forecast", "One row per cycle and segment the production forecast is chosen "
                "for (the catalogue, then each demand pattern): which step won and by how much.", {
        **CYCLE,
        "segment_type": "`total` (the catalogue) or `demand_pattern`.",
        "segment": "`total`, or `smooth`, `erratic`, `intermittent`, `lumpy` (ADI 1.32 / CV² 0.49 cut-offs).",
        "step": "The chosen step (`naive`, `seasonal_naive`, `statistical`, `lightgbm`, `combination`).",
        "method": "The model behind it.",
        "mean_mase": "The step's mean MASE over lags in the backtest (each SKU of the segment counts once).",
        "gain_low": "Lower end of the 90 % bootstrap interval of the MASE gain over the choice it displaced (the simpler "
                    "step, or the catalogue's champion for a pattern); always > 0. Null when nothing was displaced.",
        "gain_high": "Upper end of that interval.",
    }),
    OutputTable("demand_plan", "Plan", "One row per cycle, plan version, SKU and horizon month: the consensus "
                "demand plan, a draft until the executive meeting approves a version. Read `is_current` rows; "
                "every draft and approval adds a version and keeps the older ones.", {
        **CYCLE,
        "version": "Plan version: 1 on the first run; a rerun whose plan changed, an approval, or `sop run --relock` on "
                   "an approved cycle adds the next one.",
        "is_current": "True for the plan of record everything downstream uses: the newest approved version, else the "
                      "newest draft. Older versions are kept, false.",
        "sku": "SKU.",
        "family": "The SKU's family.",
        "month": "Plan month (first day).",
        "horizon_month": "1 for the cycle's month up to the horizon.",
        "time_fence": "`frozen` (months 1..`SOP_FROZEN_MONTHS`), `flexible` (up to `SOP_FLEXIBLE_MONTHS`), `strategic`.",
        "step": "The forecast step the plan starts from (as in `forecast.step`).",
        "method": "The model behind it.",
        "forecast": "The production forecast (p50), units.",
        "event_uplift": "Units added by events (promotions, launches): forecast × uplift, channel-weighted; 0 where the "
                        "method (LightGBM) already sees the events.",
        "event_ids": "The events behind the uplift, comma-separated (also shown where the model saw them).",
        "override_units": "Units the planner's override added (negative: removed): consensus − forecast − uplift.",
        "override_type": "`quantity` (replace the number) or `percent` (scale it); null when not overridden.",
        "override_level": "`sku` or `family` (a family quantity is spread over its SKUs by their forecast).",
        "override_reason": "Why, from the overrides file.",
        "override_owner": "Who owns the change.",
        "consensus": "The plan: forecast + event uplift + override, never negative (units).",
        "p10": "Lower band of the plan: the forecast's p10 scaled to the consensus.",
        "p90": "Upper band of the plan: the forecast's p90 scaled to the consensus.",
        "previous_plan": "What the previous cycle's locked plan said for this SKU and month; null if none.",
        "change_vs_previous": "consensus − previous_plan.",
        "is_frozen_change": "A frozen month changed by more than 10 % (and 0.5 units) vs the previous plan: flagged.",
        "plan_state": "`draft` (built by a run, not yet approved) or `approved` (by the executive meeting; never "
                      "overwritten). A plan locked before states existed (null here) counts as approved.",
        "approved_by": "Who approved the version (`sop approve --by` or `approvals/`); null for a draft.",
        "approved_on": "Day of the approval; null for a draft.",
        "approved_scenario": "The scenario the executive meeting chose; null for a draft.",
        "approval_note": "What was decided, in a sentence; null when none was given.",
        "scenario_assumptions": "The approved scenario's definition from the scenario file, as JSON text (its levers "
                                "at the time of approval); null for a draft.",
        "executive_demand": "Units the approved scenario plans for (its quantile and multiplier on the consensus band): "
                            "the executive meeting's number, scored as its stage; null for a draft.",
    }),
    OutputTable("plan_vs_actual", "Plan", "One row per cycle, earlier plan cycle, SKU and month whose actuals are "
                "known: every earlier plan of record (approved, else its last draft) against what sold, stage by stage.", {
        **CYCLE,
        "plan_cycle": "The cycle whose plan is scored.",
        "plan_state": "`approved` when the plan cycle's approved version is scored, `draft` when it was never approved "
                      "and its last draft is.",
        "scored_version": "The version of the plan cycle's `demand_plan` scored; null for a plan scored without one.",
        "sku": "SKU.",
        "family": "The SKU's family.",
        "segment": "Its ABC-XYZ segment at this cycle.",
        "month": "The month scored.",
        "lag": "Months between the plan cycle and the month, plus 1 (1 = the plan cycle's own month).",
        "actual": "Units sold (all channels; 0 when the SKU had no sales row).",
        "is_stockout": "The month was out of stock: left out of the scores.",
        "naive": "The naive forecast at the plan cycle: demand of the month before it (stockouts imputed).",
        "forecast": "The plan's production forecast.",
        "consensus": "The plan's consensus (of the scored version).",
        "demand_review": "The demand review's stage: the consensus of the last draft (forecast + events + overrides).",
        "executive": "The executive meeting's stage: `demand_plan.executive_demand` of the approved version (the "
                     "consensus for a plan approved before states existed); null while the plan is a draft.",
        "forecast_error": "forecast − actual.",
        "consensus_error": "consensus − actual.",
    }),
    OutputTable("plan_accuracy", "Plan", "One row per cycle, plan cycle, segment and lag: WMAPE, bias and FVA of the "
                "earlier plans, stage by stage (stockout months and SKUs without a naive value left out).", {
        **CYCLE,
        "plan_cycle": "The cycle whose plan is scored.",
        "plan_state": "`approved` or `draft`: which version of the plan cycle is scored (as in plan_vs_actual).",
        "scored_version": "The version scored.",
        "segment_type": "`total`, `family` or `abc_xyz`.",
        "segment": "The segment.",
        "lag": "Months ahead.",
        "n_scored": "SKU-months scored.",
        "actual": "Units sold over them.",
        "wmape_naive": "WMAPE of the naive forecast.",
        "wmape_forecast": "WMAPE of the plan's production forecast.",
        "wmape_consensus": "WMAPE of the plan's consensus.",
        "bias_forecast": "Bias of the forecast (positive: over).",
        "bias_consensus": "Bias of the consensus.",
        "fva_forecast_vs_naive": "wmape_naive − wmape_forecast.",
        "fva_consensus_vs_forecast": "wmape_forecast − wmape_consensus: the value events and overrides added.",
        "fva_consensus_vs_naive": "wmape_naive − wmape_consensus.",
        "wmape_demand_review": "WMAPE of the demand review's plan (the last draft's consensus).",
        "wmape_executive": "WMAPE of the executive meeting's plan; null while the plan is a draft.",
        "bias_executive": "Bias of the executive meeting's plan.",
        "fva_demand_review_vs_forecast": "wmape_forecast − wmape_demand_review: the value the demand review added.",
        "fva_executive_vs_demand_review": "wmape_demand_review − wmape_executive: the value the executive meeting added.",
        "fva_forecast_vs_naive_low": "Low end of the 90 % bootstrap interval of fva_forecast_vs_naive (SKUs resampled, "
                                     "as in the forecast scorecard).",
        "fva_forecast_vs_naive_high": "High end of that interval.",
        "fva_demand_review_vs_forecast_low": "Low end of the 90 % bootstrap interval of fva_demand_review_vs_forecast.",
        "fva_demand_review_vs_forecast_high": "High end of that interval.",
        "fva_executive_vs_demand_review_low": "Low end of the 90 % bootstrap interval of fva_executive_vs_demand_review.",
        "fva_executive_vs_demand_review_high": "High end of that interval.",
        "forecast_worse": "The forecast made the plan worse than naive beyond noise (its interval lies below 0).",
        "demand_review_worse": "The demand review made the plan worse than the forecast beyond noise.",
        "executive_worse": "The executive meeting made the plan worse than the demand review beyond noise; null while "
                           "the plan is a draft.",
    }),
    OutputTable("decisions", "Plan", "One row per cycle and decision taken at or before it: the meetings' decision "
                "log as of the cycle (the landing folder's `decisions/` data set, which `sop decide` writes), with "
                "the status the log gives each decision now.", {
        **CYCLE,
        "decision_id": "Decision code.",
        "decided_cycle": "Cycle whose meeting took the decision.",
        "decision": "What was decided.",
        "owner": "Who carries it out.",
        "due_date": "When it is due; null when open-ended.",
        "status": "`open`, `in_progress`, `done` or `dropped`.",
        "sku": "SKU it concerns; null when none.",
        "family": "Family it concerns; null when none.",
        "exception_type": "The kind of exception it answers (`stockout`, `capacity_overload`, ...); null when none.",
        "is_overdue": "Not done or dropped, and due before the cycle's first day.",
        "is_from_last_cycle": "Taken by the previous cycle's meeting: the decisions this meeting follows up first.",
    }),
    OutputTable("inventory_projection", "Supply", "One row per cycle, scenario, SKU and horizon month: projected "
                "stock. closing = opening + receipts + planned_receipts − fulfilled, never negative.", {
        **CYCLE, **SCENARIO,
        "sku": "SKU.",
        "family": "The SKU's family.",
        "supplier": "The SKU's supplier.",
        "month": "Month (first day).",
        "horizon_month": "1 for the cycle's month.",
        "opening": "Stock at the start of the month (month 1: on hand at the latest count before the cycle).",
        "receipts": "Open purchase orders expected this month (overdue lines in month 1; later by the scenario's delay).",
        "planned_receipts": "Planned orders arriving this month (see `planned_orders`).",
        "demand": "The scenario's demand: a quantile of the locked consensus, times its multiplier.",
        "fulfilled": "Demand met from stock: min(demand, opening + receipts + planned receipts).",
        "shortfall": "Demand not met (lost sales).",
        "closing": "Stock at the end of the month.",
        "safety_stock": "Target buffer: the service-level quantile of the backtest error over the lead time "
                        "(0 once the SKU stops selling).",
        "is_below_safety_stock": "closing < safety_stock.",
        "is_supply_gap": "Short or below safety stock in a month no order released now can reach.",
    }),
    OutputTable("planned_orders", "Supply", "One row per cycle, scenario, SKU and receipt month: the orders to "
                "release, at least the MOQ and a multiple of the order multiple.", {
        **CYCLE, **SCENARIO,
        "sku": "SKU.",
        "family": "The SKU's family.",
        "supplier": "Supplier to order from.",
        "release_month": "Month to release the order: one lead time (plus the scenario's delay) before receipt.",
        "receipt_month": "Month the goods arrive.",
        "quantity": "Units (>= MOQ, a multiple of the order multiple).",
        "unit_cost": "Cost per unit.",
        "order_value": "quantity × unit_cost.",
        "moq": "The SKU's minimum order quantity.",
        "order_multiple": "The SKU's order multiple.",
        "lead_time_months": "Lead time used, months (including the scenario's supplier delay).",
        "pulled_earlier": "Moved to an earlier month to fit the supplier's capacity.",
        "capacity_cut": "Units cut because the supplier cannot ship them (0 when none).",
    }),
    OutputTable("supply_gaps", "Supply", "One row per cycle, scenario, SKU and month, before an order released now "
                "can arrive, that is a stockout or ends below safety stock: an order for it would have had to be "
                "released before the cycle. `gap_type` tells a real shortfall from a thinner buffer.", {
        **CYCLE, **SCENARIO,
        "sku": "SKU.",
        "family": "The SKU's family.",
        "supplier": "The SKU's supplier.",
        "month": "The month concerned.",
        "gap_type": "`shortfall`: a stockout, demand will not be met (shortfall_units > 0; the SKU's status is "
                    "`stockout`); `below_safety_stock`: demand is met but the month closes under its safety stock "
                    "(shortfall_units = 0): at risk, not a stockout.",
        "shortfall_units": "Demand that will not be met (units); 0 for a `below_safety_stock` gap.",
        "safety_stock_deficit": "Units below safety stock at the month's end.",
        "revenue_at_risk": "shortfall_units × the SKU's net price under the scenario (as in cash_plan.revenue).",
        "recovery_month": "The first month an order released now can arrive.",
    }),
    OutputTable("capacity_load", "Supply", "One row per cycle, scenario, supplier and horizon month: receipts "
                "against the supplier's monthly capacity, after levelling.", {
        **CYCLE, **SCENARIO,
        "supplier": "Supplier.",
        "month": "Month (first day).",
        "load": "Units received: open POs and planned orders.",
        "capacity": "Monthly capacity × the scenario's multiplier; null when the supplier has none.",
        "utilisation": "load / capacity; null without a capacity.",
        "overload": "Units above capacity (firm POs that cannot move).",
        "is_overloaded": "overload > 0.",
    }),
    OutputTable("sku_status", "Supply", "One row per cycle, scenario and SKU reviewed: its most urgent status over "
                "the horizon (stockout > obsolete_risk > at_risk > excess > healthy). A stockout is a month whose "
                "stock cannot cover its demand (shortfall > 0); below safety stock alone is at_risk.", {
        **CYCLE, **SCENARIO,
        "sku": "SKU.",
        "family": "The SKU's family.",
        "supplier": "The SKU's supplier.",
        "abc_class": "A, B or C.",
        "status": "`stockout` (shortfall > 0 in some month), `obsolete_risk`, `at_risk` (below safety stock in some "
                  "month, no shortfall), `excess` (cover beyond `SOP_EXCESS_COVER_MONTHS`), `healthy`.",
        "on_hand": "Stock at the cycle start.",
        "safety_stock": "Target buffer (units).",
        "demand": "Demand over the horizon.",
        "fulfilled": "Demand met.",
        "shortfall": "Demand lost; > 0 exactly when the status is `stockout`.",
        "ending_stock": "Closing stock of the last horizon month.",
        "inventory_value_end": "ending_stock × unit cost.",
        "excess_value": "Stock above the excess cover, at cost (its largest over the horizon).",
        "obsolete_value": "Stock left after the SKU's last selling month, at cost.",
    }),
    OutputTable("exceptions", "Supply", "One row per cycle, scenario and exception, most severe first: what needs a "
                "decision, with its money at stake and a suggested action.", {
        **CYCLE, **SCENARIO,
        "sku": "SKU concerned.",
        "supplier": "Its supplier.",
        "exception_type": "`stockout` (every SKU whose status is `stockout`: its lost sales, from the first month "
                          "short), `below_safety_stock` (months under the buffer without a shortfall), "
                          "`capacity_overload`, `excess`, `obsolete_risk`.",
        "month": "First month concerned.",
        "units": "Units concerned.",
        "severity": "Money at stake: revenue at net price for missing units, value at cost for surplus units.",
        "suggested_action": "What a planner would do first; for a stockout that starts before an order released "
                            "now can arrive, expedite open POs (the month such an order arrives is named).",
    }),
    OutputTable("cash_plan", "Finance", "One row per cycle, scenario and horizon month: the plan in money and in "
                "cash (see *How the supply review works*, step 8). Without a cash input the plan says what it leaves "
                "out (`cash_basis`) instead of showing zero.", {
        **CYCLE, **SCENARIO,
        "month": "Month (first day).",
        "horizon_month": "1 for the cycle's month.",
        "revenue": "Fulfilled units × the SKU's net price: its list price × what it realised of list over the 12 "
                   "months before the cycle (net revenue ÷ units × list price; the company's ratio for a SKU without "
                   "sales, list price without any sales history), × the scenario's price_multiplier.",
        "cogs": "Fulfilled units × unit cost.",
        "gross_margin": "revenue − cogs.",
        "lost_revenue": "Shortfall units × net price.",
        "collections": "Cash from customers this month: each SKU's revenue split over channels by its revenue mix of "
                       "the 12 months before the cycle, collected `collection_days` later (rounded up to whole "
                       "months), plus revenue earned before the cycle that falls due now; collected when earned "
                       "without payment_terms.",
        "po_payments": "Payments to suppliers: deposits at release, balances after receipt + payment days.",
        "opex": "Operating expenses paid this month: those of opex/ × the scenario's opex_multiplier, plus its "
                "launch spend (launch.revenue_share × its revenue, in equal parts over its first launch.months "
                "months); 0 without either.",
        "other_payables": "Other payables due this month (overdue ones in month 1; 0 without payables).",
        "net_cash_flow": "collections − po_payments − opex − other_payables.",
        "cash_need": "Cumulative −net_cash_flow from the cycle's start (opening cash − closing balance); negative: "
                     "the plan generates cash. Shown with or without an opening cash.",
        "opening_balance": "Cash at the start of the month: the opening cash in month 1, else last month's closing; "
                           "null without cash_position.",
        "closing_balance": "opening_balance + net_cash_flow; null without cash_position.",
        "credit_line": "The credit line of the cash position; null without cash_position.",
        "funding_need": "max(0, −(closing_balance + credit_line)): cash needed beyond the credit line this month.",
        "is_lowest_balance": "The month of the horizon's lowest closing balance (the first, on a tie).",
        "inventory_cash_need": "Cumulative (po_payments − cogs): the stock the purchase plan has to finance.",
        "inventory_value": "Closing stock at cost.",
        "budget_revenue": "The month's revenue budget (total row, else the sum of families); null when none.",
        "budget_gap": "revenue − budget_revenue.",
        "cash_basis": "What the cash figures include and leave out (opening cash and its date, customer terms, opex, "
                      "payables), in words.",
    }),
    OutputTable("budget_gap", "Finance", "One row per cycle, scenario, family (null = company total) and budgeted "
                "month of the horizon: plan revenue against budget.", {
        **CYCLE, **SCENARIO,
        "family": "Family; null for the company total.",
        "month": "Month (first day).",
        "plan_revenue": "The scenario's revenue.",
        "budget_revenue": "The budget; null where there is none.",
        "gap": "plan_revenue − budget_revenue.",
    }),
    OutputTable("scenario_summary", "Scenarios", "One row per cycle and scenario: the grid the executive meeting "
                "compares (totals over the horizon).", {
        **CYCLE, **SCENARIO,
        "description": "The scenario's description from the file.",
        "demand_units": "Demand over the horizon.",
        "fulfilled_units": "Demand met.",
        "service_level": "fulfilled_units / demand_units (fill rate).",
        "revenue": "Revenue.",
        "gross_margin": "Gross margin.",
        "lost_revenue": "Revenue lost to shortfalls.",
        "ending_inventory_units": "Stock at the end of the horizon.",
        "ending_inventory_value": "Its value at cost.",
        "excess_value": "Excess stock at cost.",
        "obsolete_value": "Obsolete stock at cost.",
        "planned_order_value": "Value of the planned orders.",
        "po_spend": "Supplier payments within the horizon.",
        "peak_cash_need": "Largest `cash_need`: the most cash the plan consumes from the cycle's start (0 when "
                          "collections keep ahead).",
        "peak_cash_month": "Month of that peak; null when 0.",
        "peak_inventory_cash_need": "Largest `inventory_cash_need`: the most stock financing the plan needs.",
        "peak_capacity_use": "Highest supplier utilisation in any month.",
        "overloaded_supplier_months": "Supplier-months over capacity.",
        "budget_revenue": "Budget over the budgeted months; null without a budget.",
        "budget_gap": "Revenue − budget over those months.",
        "skus_stockout": "SKUs with status stockout.",
        "skus_obsolete_risk": "SKUs with status obsolete_risk.",
        "skus_at_risk": "SKUs with status at_risk.",
        "skus_excess": "SKUs with status excess.",
        "skus_healthy": "SKUs with status healthy.",
        "collections": "Cash from customers within the horizon (`cash_plan.collections`).",
        "collections_after_horizon": "Revenue of the horizon collected after it: outside every balance.",
        "opex": "Operating expenses within the horizon, the scenario's launch spend included.",
        "other_payables": "Other payables within the horizon.",
        "opening_cash": "Cash at the start of the cycle (latest cash_position on or before it); null without one.",
        "credit_line": "Its credit line; null without cash_position.",
        "lowest_cash_balance": "Lowest closing balance of the horizon; null without cash_position.",
        "lowest_cash_month": "Its month (the first, on a tie).",
        "funding_need": "max(0, −(lowest_cash_balance + credit_line)): cash the scenario needs beyond its credit "
                        "line; null without cash_position.",
        "runway_months": "Whole months before the first month whose closing balance + credit line is below 0 (0: the "
                         "cycle's month already is); null when that never happens within the horizon.",
        "cash_basis": "What the cash figures include and leave out, as in `cash_plan`.",
    }),
    OutputTable("kpi_history", "Pack", "One row per cycle, measured period, KPI and lag: the S&OP process's own "
                "record as of the cycle (every run recomputes the whole history). KPIs from the facts cover every "
                "month of the fact base; KPIs of locked plans fill in as cycles are run. A period without data for "
                "a KPI has no row. Formulas: *KPI definitions*.", {
        **CYCLE,
        "period": "The month the KPI measures (first day); for `plan_stability`, the plan's cycle.",
        "kpi": "`wmape`, `bias`, `fva_vs_naive` (lags 1 and 3), `fill_rate`, `inventory_turns`, `days_of_cover`, "
               "`excess_value`, `obsolete_value`, `plan_stability`.",
        "lag": "Months ahead the scored plan was made (1: the plan of the month itself, 3: locked two months "
               "before); null for KPIs without a lag.",
        "value": "The KPI: numerator / denominator for ratios, null when the denominator is 0; the amount for money KPIs.",
        "numerator": "What the KPI divides (e.g. Σ|consensus − actual| for `wmape`); the value itself for money KPIs; "
                     "null for a plan with no previous plan (`plan_stability`).",
        "denominator": "What it divides by (e.g. Σ actual); null for money KPIs.",
        "unit": "`ratio`, `money` (at current unit cost), `days` or `turns`.",
        "source": "`facts` (sales, stock counts, product master) or `locked plans`.",
        "plan_cycle": "The cycle whose locked plan is scored (period − (lag − 1) for the accuracy KPIs, the period "
                      "itself for `plan_stability`); null for KPIs from the facts.",
    }),
    OutputTable("plan_bridge", "Pack", "One row per cycle, family (null = company total) and cause: why the 12-month "
                "demand plan, the buy plan and the peak cash need moved from the previous cycle's locked plan to this "
                "one. The causes between the two levels add up exactly to the change (see *The plan bridge*). No "
                "rows for a cycle with no earlier locked plan.", {
        **CYCLE,
        "family": "Family (this cycle's plan's; the previous plan's for SKUs only there); null for the company total.",
        "cause": "`previous_plan` (level), `rolled_off`, `rolled_on`, `actuals`, `model`, `events`, `overrides`, "
                 "`new_skus`, `discontinued_skus`, `price_cost`, `stock_and_orders`, `residual`, `current_plan` (level).",
        "cause_order": "The cause's position in the bridge, 1 to 13 (levels first and last).",
        "is_level": "True for the two levels (`previous_plan`, `current_plan`); the rows between are changes.",
        "demand_units": "Consensus units over each plan's horizon: the level, or the cause's change (0 for "
                        "`price_cost` and `stock_and_orders`).",
        "demand_value": "The same × unit price: units at last cycle's prices, then `price_cost` = this plan's units × "
                        "(price now − price then); the current level at this cycle's prices.",
        "purchase_value": "Central scenario's planned orders at cost (Σ order_value); causes from the substitution walk; "
                          "null without a supply review this cycle or central results last cycle.",
        "peak_cash_need": "Central scenario's peak cash need; total row only (null on family rows and without a supply "
                          "review).",
        "peak_inventory_cash_need": "Central scenario's peak stock financing need; total row only, as peak_cash_need.",
        "note": "What the row means, assumes or leaves out (e.g. no prices recorded for the previous cycle).",
    }),
    OutputTable("replay", "Replay", "One row per cycle, policy, service target, SKU and replayed month: the stock "
                "the cycle's last 12 months would have had, planned each month with only what was known then under "
                "the live supply rules, against the demand that happened (see docs/replay.md).", {
        **CYCLE,
        "policy": "`naive`, `seasonal_naive`, `production` (each SKU's champion at that month), `consensus` "
                  "(production + events + that month's overrides) or `perfect_foresight` (the actual demand as the "
                  "forecast).",
        "service_target": "The service level every SKU's safety stock was set for (the trade-off curve: 0.85, 0.90, "
                          "0.95, 0.99); null for the configured levels of each SKU's ABC class at that month.",
        "sku": "SKU.",
        "month": "The replayed month (first day).",
        "opening": "Units on hand at the month's start: the previous month's closing, or the policy's target stock "
                   "in the month the SKU starts.",
        "receipts": "Units received: the policy's orders whose receipt month this is.",
        "demand": "Units customers wanted: sales, or in a stockout or unknown month the forecast's estimate of "
                  "the demand that could not be served.",
        "fulfilled": "min(demand, opening + receipts).",
        "lost": "demand − fulfilled: sales lost, not back-ordered.",
        "closing": "opening + receipts − fulfilled.",
        "value": "closing × unit cost.",
        "ordered": "Units the policy's plan released this month (arriving one lead time later).",
        "safety_stock": "The safety stock the month's plan kept, from the policy's own backtest errors known then.",
        "service_level": "The service level that safety stock was set for.",
        "is_estimated": "True when demand is an estimate (a stockout or a month with unknown sales).",
    }),
    OutputTable("replay_summary", "Replay", "One row per cycle, policy and service target: what each replayed plan "
                "earned over the cycle's last 12 months, in service, stock and cash (definitions in docs/replay.md).", {
        **CYCLE,
        "policy": "As in `replay`.",
        "service_target": "As in `replay`: null for the configured ABC levels.",
        "months": "Months replayed.",
        "skus": "SKUs replayed.",
        "target_fill_rate": "The service levels aimed at, weighted by demand.",
        "demand_units": "Σ demand.",
        "fulfilled_units": "Σ fulfilled.",
        "fill_rate": "fulfilled_units / demand_units.",
        "lost_units": "Σ lost.",
        "lost_revenue": "Σ lost × unit price.",
        "lost_margin": "Σ lost × (unit price − unit cost).",
        "avg_inventory_value": "Mean over the months of the month-end stock at cost.",
        "turns": "Cost of the units sold a year / avg_inventory_value.",
        "purchase_spend": "The months' receipts at cost.",
        "peak_cash_in_stock": "The highest month-end stock at cost.",
        "excess_at_end": "The last month's stock beyond `SOP_EXCESS_COVER_MONTHS` of the SKU's mean monthly demand, "
                         "at cost.",
        "holding_cost": "avg_inventory_value × the holding cost rate (25 % a year, "
                        "`sop_pipeline.replay.score.HOLDING_COST_RATE`) × months / 12.",
        "total_cost": "holding_cost + lost_margin.",
        "verdict": "The cycle's verdict sentence (the same on each of its rows): the production plan's fill rate and "
                   "its stock against a naive plan at the same fill rate.",
    }),
)
