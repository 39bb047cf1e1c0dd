"""AWS Lambda entry points, one module per function: parse the event, call one stage, respond."""
