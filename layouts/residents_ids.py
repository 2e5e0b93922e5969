"""Component ids of the residents' page (/residents), shared by layouts/residents.py,
callbacks/residents.py and the browser tests."""

ROOT = "residents"
STORE = "residents-store"  # {"lang"}
MESSAGE = "residents-message"
NOTE = "residents-note"  # the reason of a rejection or a return
CLAIMS = "residents-claims"  # pending claims (re-rendered after a step)
RANKING = "residents-ranking"
BALANCES = "residents-balances"
SERVICES = "residents-services"  # open service requests (re-rendered after a step)

# Pattern-matching ids: {"type": CLAIM_STEP, "claim": id, "step": "confirm" | "reject"} and
# {"type": SERVICE_STEP, "request": id, "step": "accept" | "return" | "complete"}.
CLAIM_STEP = "residents-claim-step"
SERVICE_STEP = "residents-service-step"

# 积分兑换: a reward handed out against a resident's points (the town's desk, a village committee).
REDEEM = "residents-redeem"  # the form (re-rendered after a redemption: stock and balances)
REDEEM_RESIDENT = "residents-redeem-resident"
REDEEM_REWARD = "residents-redeem-reward"
REDEEM_GO = "residents-redeem-go"
