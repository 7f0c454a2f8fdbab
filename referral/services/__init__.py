"""Service layer: verbs that load, check the policy, apply the rules, change and commit."""
