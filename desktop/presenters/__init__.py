"""Screen state as QObjects: what each view shows and the actions it can take. No widgets."""
