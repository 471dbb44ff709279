"""Bad inputs for the reliability tests: generators that know what must come out of each."""
