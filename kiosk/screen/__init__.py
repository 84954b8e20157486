"""The lobby screen: registered screens, the attract loop, the pulse, and the slide registry."""
