"""Reference wages: what an hour of work should pay at least, per currency and region, and
the publishing check that holds orders to it (docs/hourly-pay.md)."""
