"""Programme C, night places (domain.md §7, seed 002): the registration desk's cards and
morning registrations, the shelters and their capacity, the daily allocation and its
published ranking, the shelters' lists for tonight, and exclusions.

The allocation itself is a pure function (referral.night_allocation); these services load
its inputs from the records, store every run as it was made, and keep the places it gave.
"""
