"""Live status: the event bus, the websockets server, live tokens and the message protocol."""
