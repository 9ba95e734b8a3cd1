module github.com/click-ai/queue-slot

go 1.24
