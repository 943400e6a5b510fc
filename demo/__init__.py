"""Everything that exists only for the demo and the tests' world: seeding, the simulated cameras,
edge recorder (NVR) and ONVIF device, the mail sink, the fake POS servers and the controllable clock.

Production code never imports this package (tests/test_demo_boundary.py holds that rule); the demo's
and the tests' settings add it to INSTALLED_APPS. Kept free of imports so that the Django-free
simulators (rtsp_sim, sim_camera, onvif_sim) load without Django.
"""
