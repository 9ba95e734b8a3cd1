"""The simulated services, one module each, mixed into `snkrs_generator.journeys.Journeys`."""
