"""The simulated platform: deterministic video (``client``) and account (``accounts``) clients for every
registered platform, used by default (``VIEWTRAIL_{P}_MODE=simulated``), in the demo and in tests."""
