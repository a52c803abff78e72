console.log("hi from ts", 1 as number)
