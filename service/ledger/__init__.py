"""Patient money: the ledger, balances, A/R, the payments journal and the month-end."""
