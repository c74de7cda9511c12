#!/usr/bin/env python3
"""Server CPU time and client latency of a GET through proxy mode vs. directly (BENCHMARKS.md, "Proxy mode").

Usage: proxy_cost.py EMULATOR_URL CA_CERT_PEM REQUESTS EMULATOR_PID
"""
import os, statistics, sys, time
import requests

url, ca, n, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ticks = os.sysconf("SC_CLK_TCK")
auth = ("AC00000000000000000000000000000001", "x")
direct = requests.Session(); direct.trust_env = False
proxied = requests.Session(); proxied.trust_env = False
proxied.proxies = {"https": url}; proxied.verify = ca
conv = direct.post(f"{url}/v1/Conversations", auth=auth).json()["sid"]
for i in range(5):
    direct.post(f"{url}/v1/Conversations/{conv}/Messages", data={"Body": f"m{i}"}, auth=auth)
path = f"/v1/Conversations/{conv}/Messages?PageSize=5"

def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks

def run(session, base):
    samples = []
    before = cpu()
    for _ in range(n):
        t = time.perf_counter(); r = session.get(base + path, auth=auth); samples.append(time.perf_counter() - t)
        r.raise_for_status()
    return samples, (cpu() - before) / n

def connect_once():
    s = requests.Session(); s.trust_env = False; s.proxies = {"https": url}; s.verify = ca
    s.get("https://conversations.twilio.com" + path, auth=auth).raise_for_status()

run(direct, url); run(proxied, "https://conversations.twilio.com")  # warm up
for _ in range(3):
    d, dc = run(direct, url); p, pc = run(proxied, "https://conversations.twilio.com")
    print(f"direct  median {statistics.median(d)*1e6:7.0f} us  server CPU {dc*1e6:6.0f} us/request")
    print(f"proxied median {statistics.median(p)*1e6:7.0f} us  server CPU {pc*1e6:6.0f} us/request")
before = cpu(); t = time.perf_counter()
for _ in range(50): connect_once()
print(f"new tunnel (CONNECT + TLS handshake + one GET): {(time.perf_counter()-t)/50*1e3:.1f} ms wall, server CPU {(cpu()-before)/50*1e3:.2f} ms")
