"""Demand forecasting: candidates, global model, backtest, scorecard (FVA) and quantiles. Pure Python, no Dagster."""
